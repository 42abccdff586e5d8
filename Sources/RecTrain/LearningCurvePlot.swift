import Foundation

/// A small dependency-free SVG line chart of per-epoch training loss and validation metric.
public enum LearningCurvePlot {
  public struct Series: Sendable {
    public var name: String
    public var values: [Double]
    public var color: String
    public init(name: String, values: [Double], color: String) {
      self.name = name
      self.values = values
      self.color = color
    }
  }

  /// One panel per series (their scales differ), sharing the epoch axis.
  public static func svg(title: String, series: [Series], width: Int = 720, panelHeight: Int = 200) -> String {
    let margin = (left: 70.0, right: 20.0, top: 36.0, bottom: 36.0)
    let height = Int(margin.top) + series.count * (panelHeight + Int(margin.bottom))
    var out = """
      <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" font-family="sans-serif" font-size="12">
      <rect width="100%" height="100%" fill="white"/>
      <text x="\(width / 2)" y="20" text-anchor="middle" font-size="14">\(escape(title))</text>

      """
    for (index, s) in series.enumerated() {
      let top = margin.top + Double(index) * Double(panelHeight + Int(margin.bottom))
      let plotW = Double(width) - margin.left - margin.right
      let plotH = Double(panelHeight) - 20
      let finite = s.values.filter(\.isFinite)
      let lo = finite.min() ?? 0
      let hi = finite.max() ?? 1
      let span = hi > lo ? hi - lo : max(abs(hi), 1e-9)
      let n = max(s.values.count - 1, 1)
      func x(_ i: Int) -> Double { margin.left + plotW * Double(i) / Double(n) }
      func y(_ v: Double) -> Double { top + plotH - plotH * (v - lo) / span }
      out +=
        "<rect x=\"\(margin.left)\" y=\"\(top)\" width=\"\(plotW)\" height=\"\(plotH)\" fill=\"none\" stroke=\"#ccc\"/>\n"
      out += "<text x=\"\(margin.left + 6)\" y=\"\(top + 14)\" fill=\"\(s.color)\">\(escape(s.name))</text>\n"
      out += "<text x=\"\(margin.left - 6)\" y=\"\(top + 10)\" text-anchor=\"end\">\(fmt(hi))</text>\n"
      out += "<text x=\"\(margin.left - 6)\" y=\"\(top + plotH)\" text-anchor=\"end\">\(fmt(lo))</text>\n"
      out +=
        "<text x=\"\(margin.left + plotW)\" y=\"\(top + plotH + 16)\" text-anchor=\"end\">epoch \(s.values.count)</text>\n"
      let points = s.values.enumerated().filter { $0.element.isFinite }.map {
        "\(fmt2(x($0.offset))),\(fmt2(y($0.element)))"
      }
      if !points.isEmpty {
        out +=
          "<polyline fill=\"none\" stroke=\"\(s.color)\" stroke-width=\"2\" points=\"\(points.joined(separator: " "))\"/>\n"
      }
    }
    return out + "</svg>\n"
  }

  static func fmt(_ v: Double) -> String { String(format: abs(v) >= 100 ? "%.1f" : "%.4f", v) }
  static func fmt2(_ v: Double) -> String { String(format: "%.1f", v) }
  static func escape(_ s: String) -> String {
    s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
  }
}
