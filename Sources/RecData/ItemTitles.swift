import Foundation

/// Human-readable item names for printing recommendations: RecBole atomic `.item` files (the `movie_title` column,
/// or the first text column) and MovieLens `movies.dat` (`id::title::genres`, Latin-1).
public enum ItemTitles {
  public static func load(path: String) throws -> [String: String] {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw DataError(path: path, "cannot read the titles file")
    }
    // MovieLens files are Latin-1 (e.g. "Misérables"): read as UTF-8 when valid, else as Latin-1.
    let text =
      String(data: data, encoding: .utf8) ?? String(data: data, encoding: .isoLatin1)
      ?? String(decoding: data, as: UTF8.self)
    var lines = text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
    guard let first = lines.first else { throw DataError(path: path, "the titles file is empty") }
    var titles: [String: String] = [:]
    if first.contains("::") {
      for line in lines {
        let parts = line.components(separatedBy: "::")
        if parts.count >= 2 { titles[parts[0]] = parts[1] }
      }
      return titles
    }
    let header = first.split(separator: "\t", omittingEmptySubsequences: false).map {
      String($0.split(separator: ":").first ?? "")
    }
    guard header.count >= 2 else {
      throw DataError(path: path, line: 1, "expected a tab-separated header with an id and a title column")
    }
    let titleColumn = header.firstIndex(where: { $0.contains("title") }) ?? 1
    lines.removeFirst()
    for line in lines {
      let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
      if fields.count > titleColumn { titles[String(fields[0])] = String(fields[titleColumn]) }
    }
    return titles
  }
}
