import TensorCore

/// A lookup table E [embeddingCount, dimension] (PyTorch `nn.Embedding`), with the tied output scoring
/// h · Eᵀ that sequential recommenders use for logits over every item.
///
/// `paddingIndex` follows torch `padding_idx` semantics: the lookup backward never writes into that row, but the
/// row is otherwise an ordinary parameter, so the tied scoring backward does update it.
public final class Embedding: ParameterContainer {
  public let name: String
  public let embeddingCount: Int
  public let dimension: Int
  /// Row whose lookups receive no gradient (nil: every row does).
  public let paddingIndex: Int?
  /// [embeddingCount, dimension]
  public let weight: Parameter

  /// The table is named "\(name).weight" and starts at zero.
  public init(name: String, embeddingCount: Int, dimension: Int, paddingIndex: Int? = 0) {
    precondition(embeddingCount > 0 && dimension > 0, "Embedding \(name): sizes must be positive")
    if let paddingIndex {
      precondition(
        (0..<embeddingCount).contains(paddingIndex),
        "Embedding \(name): padding index \(paddingIndex) is outside 0..<\(embeddingCount)")
    }
    self.name = name
    self.embeddingCount = embeddingCount
    self.dimension = dimension
    self.paddingIndex = paddingIndex
    self.weight = Parameter(name: "\(name).weight", shape: [embeddingCount, dimension])
  }

  /// A data-parallel replica: the table shared with `other`, a private gradient.
  public init(replicaOf other: Embedding) {
    name = other.name
    embeddingCount = other.embeddingCount
    dimension = other.dimension
    paddingIndex = other.paddingIndex
    weight = Parameter(sharing: other.weight)
  }

  public var parameters: [Parameter] { [weight] }

  // MARK: Lookup

  /// Rows of the table for `ids`: shape `shape + [dimension]` (default `[ids.count, dimension]`).
  public func forward(_ ids: [Int32], shape: [Int]? = nil) -> Tensor {
    let outShape = (shape ?? [ids.count]) + [dimension]
    precondition(
      outShape.dropLast().reduce(1, *) == ids.count, "Embedding \(name): \(ids.count) ids for shape \(outShape)")
    let out = Tensor(uninitialized: outShape)
    let table = weight.value.ptr
    let d = dimension
    ids.withUnsafeBufferPointer { ids in
      for (position, id) in ids.enumerated() {
        precondition(
          id >= 0 && Int(id) < embeddingCount,
          "Embedding \(name): id \(id) at position \(position) is outside 0..<\(embeddingCount)")
        (out.ptr + position * d).update(from: table + Int(id) * d, count: d)
      }
    }
    return out
  }

  /// Scatters dy [ids.count, dimension] into the table gradient (+=), skipping ids equal to `paddingIndex`.
  public func backward(_ dy: Tensor, ids: [Int32]) {
    precondition(dy.count == ids.count * dimension, "Embedding \(name): dy \(dy.shape) for \(ids.count) ids")
    let grad = weight.grad.ptr
    let d = dimension
    let skipped = paddingIndex ?? -1
    ids.withUnsafeBufferPointer { ids in
      for (position, id) in ids.enumerated() where Int(id) != skipped {
        let g = grad + Int(id) * d
        let src = dy.ptr + position * d
        for c in 0..<d { g[c] += src[c] }
      }
    }
  }

  // MARK: Tied output scoring

  /// scores [B, embeddingCount] = h [B, dimension] · Eᵀ (one gemm).
  public func scores(_ h: Tensor) -> Tensor {
    let scores = Tensor(uninitialized: [checkedRows(h), embeddingCount])
    self.scores(h, into: scores.ptr)
    return scores
  }

  /// Writes h · Eᵀ row-major into `scores` (B × embeddingCount floats).
  public func scores(_ h: Tensor, into scores: UnsafeMutablePointer<Float>) {
    BLAS.gemm(
      transA: false, transB: true, m: checkedRows(h), n: embeddingCount, k: dimension,
      a: h.ptr, lda: dimension, b: weight.value.ptr, ldb: dimension, beta: 0, c: scores, ldc: embeddingCount)
  }

  /// Backward of `scores`: accumulates dE += dscoresᵀ · h into **every** row (the padding row included) and
  /// returns a new dh = dscores · E.
  public func scoresBackward(_ dscores: Tensor, input h: Tensor) -> Tensor {
    let rows = checkedRows(h)
    precondition(
      dscores.count == rows * embeddingCount, "Embedding \(name): dscores \(dscores.shape) for input \(h.shape)")
    // dE (N×d) += dscoresᵀ (N×B) · h (B×d)
    BLAS.gemm(
      transA: true, transB: false, m: embeddingCount, n: dimension, k: rows,
      a: dscores.ptr, lda: embeddingCount, b: h.ptr, ldb: dimension, beta: 1, c: weight.grad.ptr, ldc: dimension)
    // dh (B×d) = dscores (B×N) · E (N×d)
    let dh = Tensor(uninitialized: h.shape)
    BLAS.gemm(
      transA: false, transB: false, m: rows, n: dimension, k: embeddingCount,
      a: dscores.ptr, lda: embeddingCount, b: weight.value.ptr, ldb: dimension, beta: 0, c: dh.ptr, ldc: dimension)
    return dh
  }

  private func checkedRows(_ h: Tensor) -> Int {
    precondition(h.shape.last == dimension, "Embedding \(name): input \(h.shape) does not end in \(dimension)")
    return h.count / dimension
  }
}
