/// Contiguous, row-major Float storage with a shape.
///
/// `Tensor` has **reference semantics**: copies of a `Tensor` value share the same storage, and kernels write
/// through `ptr`. This is deliberate (llm.c style): layers own their activation buffers and pass pointers around
/// without copy-on-write checks in hot loops. Use `copy()` for an independent tensor.
public struct Tensor: @unchecked Sendable {
  public let shape: [Int]
  public let storage: TensorStorage
  /// Offset (in elements) of this view into `storage`.
  public let offset: Int

  public var count: Int { shape.reduce(1, *) }
  public var rank: Int { shape.count }
  @inlinable public var ptr: UnsafeMutablePointer<Float> { storage.base + offset }

  /// A zero-filled tensor.
  public init(zeros shape: [Int]) {
    precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
    self.shape = shape
    self.storage = TensorStorage(count: shape.reduce(1, *))
    self.offset = 0
  }

  /// A tensor whose contents are unspecified, for outputs that a kernel overwrites entirely (a GEMM with β = 0, an
  /// element-wise map): it skips the zero fill, which cost ~8% of RecBLR training in memset. Never read an element
  /// before writing it.
  public init(uninitialized shape: [Int]) {
    precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
    self.shape = shape
    self.storage = TensorStorage(count: shape.reduce(1, *), zeroed: false)
    self.offset = 0
  }

  /// A tensor holding `values` (count must equal the product of `shape`).
  public init(shape: [Int], values: [Float]) {
    precondition(values.count == shape.reduce(1, *), "\(values.count) values for shape \(shape)")
    self.init(zeros: shape)
    values.withUnsafeBufferPointer { src in
      if let b = src.baseAddress { ptr.update(from: b, count: values.count) }
    }
  }

  /// A tensor filled with `value`.
  public init(shape: [Int], repeating value: Float) {
    self.init(zeros: shape)
    ptr.update(repeating: value, count: count)
  }

  init(shape: [Int], storage: TensorStorage, offset: Int) {
    self.shape = shape
    self.storage = storage
    self.offset = offset
  }

  /// Same storage, new shape (element count must match).
  public func reshaped(_ newShape: [Int]) -> Tensor {
    precondition(newShape.reduce(1, *) == count, "cannot reshape \(shape) to \(newShape)")
    return Tensor(shape: newShape, storage: storage, offset: offset)
  }

  /// A view of rows `range` along the first dimension (shares storage).
  public func rows(_ range: Range<Int>) -> Tensor {
    precondition(rank >= 1 && range.lowerBound >= 0 && range.upperBound <= shape[0])
    let rowSize = shape.dropFirst().reduce(1, *)
    var s = shape
    s[0] = range.count
    return Tensor(shape: s, storage: storage, offset: offset + range.lowerBound * rowSize)
  }

  /// An independent copy.
  public func copy() -> Tensor {
    let t = Tensor(zeros: shape)
    t.ptr.update(from: ptr, count: count)
    return t
  }

  /// Elements as an array (for tests and I/O; not for hot loops).
  public var array: [Float] { Array(UnsafeBufferPointer(start: ptr, count: count)) }

  public func fill(_ value: Float) { ptr.update(repeating: value, count: count) }
  public func zero() { fill(0) }

  @inlinable public subscript(i: Int) -> Float {
    get { ptr[i] }
    nonmutating set { ptr[i] = newValue }
  }
}

/// Owner of a 64-byte aligned Float allocation.
public final class TensorStorage: @unchecked Sendable {
  public let base: UnsafeMutablePointer<Float>
  public let capacity: Int

  /// `count` floats, zero unless `zeroed` is false (then the values are unspecified until written).
  public init(count: Int, zeroed: Bool = true) {
    capacity = count
    let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<Float>.stride, alignment: 64)
    base = raw.bindMemory(to: Float.self, capacity: max(count, 1))
    if zeroed { base.initialize(repeating: 0, count: max(count, 1)) }
  }

  deinit { UnsafeMutableRawPointer(base).deallocate() }
}

extension Tensor: CustomStringConvertible {
  public var description: String {
    let head = array.prefix(8).map { String(format: "%.4g", $0) }.joined(separator: ", ")
    return "Tensor\(shape)[\(head)\(count > 8 ? ", …" : "")]"
  }
}
