/// A streaming state is stored (e.g. by the server) as JSON or binary through Codable.
extension GatedRecurrentLayer.State: Codable {
  enum CodingKeys: String, CodingKey { case convHistory, recurrentState, position }

  /// A state from stored values (e.g. a server's state blob).
  public static func restored(convHistory: [Float], recurrentState: [Float], position: Int) -> Self {
    Self(convHistory: convHistory, recurrentState: recurrentState, position: position)
  }

  public init(from decoder: Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    self.init(
      convHistory: try c.decode([Float].self, forKey: .convHistory),
      recurrentState: try c.decode([Float].self, forKey: .recurrentState),
      position: try c.decode(Int.self, forKey: .position))
  }

  public func encode(to encoder: Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(convHistory, forKey: .convHistory)
    try c.encode(recurrentState, forKey: .recurrentState)
    try c.encode(position, forKey: .position)
  }
}
