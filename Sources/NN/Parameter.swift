import TensorCore

/// A trainable tensor and its gradient. Layers list their parameters explicitly, in a stable order that is also
/// the checkpoint order; backward passes accumulate (`+=`) into `grad`.
public final class Parameter: @unchecked Sendable {
  public let name: String
  public let value: Tensor
  public let grad: Tensor

  public init(name: String, shape: [Int]) {
    self.name = name
    self.value = Tensor(zeros: shape)
    self.grad = Tensor(zeros: shape)
  }

  /// A parameter whose value **shares storage** with `other`'s (same name, same tensor) but with its own zero
  /// gradient: what a data-parallel worker's model replica holds, so every worker reads the master's current
  /// weights while accumulating a private gradient.
  public init(sharing other: Parameter) {
    self.name = other.name
    self.value = other.value
    self.grad = Tensor(zeros: other.shape)
  }

  public var shape: [Int] { value.shape }
  public var count: Int { value.count }
  public func zeroGrad() { grad.zero() }
}

/// Something with parameters.
public protocol ParameterContainer: AnyObject {
  /// Every parameter, in a stable order, names unique within the container.
  var parameters: [Parameter] { get }
}

extension ParameterContainer {
  public func zeroGrads() { for p in parameters { p.zeroGrad() } }
  public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }
}
