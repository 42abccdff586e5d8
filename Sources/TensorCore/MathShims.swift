import RealModule

extension Double {
  @usableFromInline var logValue: Double { Double.log(self) }
  @usableFromInline var cosValue: Double { Double.cos(self) }
}
