/// Interactions as read from a file, before filtering and renumbering: for each user (in order of first
/// appearance in the file) the chronological list of items, as indices into `rawItemIds`.
public struct RawSequences: Equatable, Sendable {
  /// Raw id of user `u` (as written in the file; integer ids in canonical decimal form).
  public var rawUserIds: [String]
  /// Raw id of item index `i`. After filtering it may list items that no sequence uses any more.
  public var rawItemIds: [String]
  /// `sequences[u]` = item indices of user `u`, oldest first; never empty. Setting it drops `timeKeys`.
  public var sequences: [[Int32]] {
    didSet { timeKeys = nil }
  }
  /// Each interaction's timestamp and file row, aligned with `sequences`, kept when the chronological order
  /// depends on which interactions survive the filters (`normalized-float32`: RecBole normalises over the
  /// interactions its filters keep). `kCoreFiltered` re-sorts with it; nil when the order cannot change.
  public internal(set) var timeKeys: TimeKeys?

  public init(rawUserIds: [String], rawItemIds: [String], sequences: [[Int32]]) {
    precondition(rawUserIds.count == sequences.count, "one raw id per user")
    self.rawUserIds = rawUserIds
    self.rawItemIds = rawItemIds
    self.sequences = sequences
  }

  init(rawUserIds: [String], rawItemIds: [String], sequences: [[Int32]], timeKeys: TimeKeys?) {
    self.init(rawUserIds: rawUserIds, rawItemIds: rawItemIds, sequences: sequences)
    if let timeKeys {
      precondition(
        timeKeys.times.map(\.count) == sequences.map(\.count)
          && timeKeys.fileRows.map(\.count) == sequences.map(\.count),
        "one time and one file row per interaction")
    }
    self.timeKeys = timeKeys
  }

  public var userCount: Int { sequences.count }
  public var interactionCount: Int { sequences.reduce(0) { $0 + $1.count } }

  /// User `u`'s items as raw ids, oldest first.
  public func rawItems(ofUser user: Int) -> [String] { sequences[user].map { rawItemIds[Int($0)] } }

  /// Per-interaction timestamps and file rows, aligned with `RawSequences.sequences`.
  public struct TimeKeys: Equatable, Sendable {
    /// The order the keys are computed in.
    public var order: TimeOrderKey
    /// `times[u][p]` is the timestamp of `sequences[u][p]`, as read.
    public var times: [[Double]]
    /// `fileRows[u][p]` is its 0-based data row in the file: equal keys keep this order.
    public var fileRows: [[Int]]
  }

  /// The same interactions with each user's sorted again by `timeKeys`' order, its keys computed over the
  /// interactions present now (ties by file row, as RecBole's stable sort). Unchanged without `timeKeys`.
  func rekeyedByTime() -> RawSequences {
    guard let timeKeys else { return self }
    let keys = timeKeys.order.keys(timeKeys.times.flatMap { $0 })
    var next = 0
    var sequences: [[Int32]] = []
    var times: [[Double]] = []
    var fileRows: [[Int]] = []
    sequences.reserveCapacity(userCount)
    for user in 0..<userCount {
      let count = self.sequences[user].count
      let userKeys = keys[next..<next + count]
      next += count
      let rows = timeKeys.fileRows[user]
      let order = (0..<count).sorted { a, b in
        let ka = userKeys[userKeys.startIndex + a]
        let kb = userKeys[userKeys.startIndex + b]
        return ka < kb || (ka == kb && rows[a] < rows[b])
      }
      sequences.append(order.map { self.sequences[user][$0] })
      times.append(order.map { timeKeys.times[user][$0] })
      fileRows.append(order.map { rows[$0] })
    }
    return RawSequences(
      rawUserIds: rawUserIds, rawItemIds: rawItemIds, sequences: sequences,
      timeKeys: TimeKeys(order: timeKeys.order, times: times, fileRows: fileRows))
  }
}

/// Collects (user, item[, timestamp]) rows in file order, interning raw ids, then groups them per user.
struct InteractionRows {
  private(set) var users = ByteInterner()
  private(set) var items = ByteInterner()
  private var rowUsers: [Int32] = []
  private var rowItems: [Int32] = []
  private var rowTimes: [Double] = []

  var isEmpty: Bool { rowUsers.isEmpty }

  mutating func reserve(_ rows: Int) {
    rowUsers.reserveCapacity(rows)
    rowItems.reserveCapacity(rows)
  }

  mutating func userIndex(_ token: UnsafeRawBufferPointer) -> Int32 { users.index(of: token) }
  mutating func userIndex(_ token: String) -> Int32 { users.index(of: token) }
  mutating func itemIndex(_ token: UnsafeRawBufferPointer) -> Int32 { items.index(of: token) }
  mutating func itemIndex(_ token: String) -> Int32 { items.index(of: token) }

  mutating func append(user: Int32, item: Int32) {
    rowUsers.append(user)
    rowItems.append(item)
  }

  mutating func append(user: Int32, item: Int32, time: Double) {
    append(user: user, item: item)
    rowTimes.append(time)
  }

  /// Groups rows per user keeping file order; with timestamps, each user's rows are then sorted by their
  /// `timeOrder` keys with a stable sort (rows with equal keys keep file order), as RecBole's `Interaction.sort`
  /// does.
  func grouped(timeOrder: TimeOrderKey = .exact) -> RawSequences {
    precondition(rowTimes.isEmpty || rowTimes.count == rowUsers.count, "timestamps for every row or for none")
    let userCount = users.count
    var starts = [Int](repeating: 0, count: userCount + 1)
    for u in rowUsers { starts[Int(u) + 1] += 1 }
    for u in 0..<userCount { starts[u + 1] += starts[u] }
    // Row numbers grouped per user, in file order within each user (counting sort is stable).
    var order = [Int](repeating: 0, count: rowUsers.count)
    var fill = starts
    for (row, u) in rowUsers.enumerated() {
      order[fill[Int(u)]] = row
      fill[Int(u)] += 1
    }
    let keys = timeOrder.keys(rowTimes)
    let keepTimeKeys = !rowTimes.isEmpty && timeOrder.dependsOnKeptInteractions
    var sequences: [[Int32]] = []
    var times: [[Double]] = []
    var fileRows: [[Int]] = []
    sequences.reserveCapacity(userCount)
    for u in 0..<userCount {
      var rows = order[starts[u]..<starts[u + 1]]
      if !keys.isEmpty { rows = ArraySlice(Self.stableSortedByTime(rows, keys)) }
      sequences.append(rows.map { rowItems[$0] })
      if keepTimeKeys {
        times.append(rows.map { rowTimes[$0] })
        fileRows.append(Array(rows))
      }
    }
    return RawSequences(
      rawUserIds: users.allStrings(), rawItemIds: items.allStrings(), sequences: sequences,
      timeKeys: keepTimeKeys ? .init(order: timeOrder, times: times, fileRows: fileRows) : nil)
  }

  /// `rows` (ascending row numbers) ordered by time, ties by row number: a stable sort whatever the sort algorithm.
  private static func stableSortedByTime(_ rows: ArraySlice<Int>, _ times: [Double]) -> [Int] {
    var alreadySorted = true
    var previous = -Double.infinity
    for row in rows {
      if times[row] < previous {
        alreadySorted = false
        break
      }
      previous = times[row]
    }
    if alreadySorted { return Array(rows) }
    return rows.sorted { a, b in times[a] < times[b] || (times[a] == times[b] && a < b) }
  }
}
