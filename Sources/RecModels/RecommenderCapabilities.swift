/// Optional abilities of a `SequentialRecommender` that training and benchmarking use when a model has them.

/// A model that can be copied for data-parallel training.
public protocol ReplicableRecommender: SequentialRecommender {
  /// A replica for one worker thread. Every parameter **value** shares storage with this model's (so an optimiser
  /// step on this model is seen by the replica at once); gradients and activation buffers are private.
  /// `replica().parameters` lists the counterparts of `parameters` in the same order.
  func replica() -> Self
}

/// An analytic count of a model's floating-point operations, for throughput reports (GFLOP/s).
///
/// Convention: a multiply-add is 2 FLOPs; matrix products, convolutions and recurrences are counted; element-wise
/// nonlinearities, normalisation, dropout and the softmax are not (they are O(width) per position against the
/// O(width²) products). A training step costs 3× its forward: the backward of every product is two products of
/// the same size (∂input and ∂weight).
public protocol FLOPCounting {
  /// FLOPs of one forward pass that computes `positions` sequence positions and scores `scoredRows` of them
  /// against every item.
  func forwardFLOPs(positions: Int, scoredRows: Int) -> Double
}

extension FLOPCounting {
  /// Forward + backward: 3× the forward.
  public func trainingFLOPs(positions: Int, scoredRows: Int) -> Double {
    3 * forwardFLOPs(positions: positions, scoredRows: scoredRows)
  }
}
