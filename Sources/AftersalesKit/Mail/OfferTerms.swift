/// The offer terms the templates quote, from `offers.*` in the configuration. The defaults are the
/// source documents' values (seeds 001-003).
public struct OfferTerms: Sendable, Hashable, Codable {
    /// The coupon for a logistics fault, in whole units of the order's currency ($200 in seed 003).
    public var logisticsCouponAmount: Int
    /// How many months the logistics-fault coupon is valid (3).
    public var logisticsCouponMonths: Int
    /// The survey incentive, percent off the next order (10).
    public var surveyCouponPercent: Int
    /// The trade-in discount of an upgrade notice, percent (20).
    public var tradeInPercent: Int
    /// The review-thanks coupon, percent off (5), valid this many days (30).
    public var reviewCouponPercent: Int
    public var reviewCouponDays: Int
    /// The returns window in days (the international norm is 15-30; 30).
    public var returnsDays: Int

    public init(logisticsCouponAmount: Int = 200, logisticsCouponMonths: Int = 3, surveyCouponPercent: Int = 10,
                tradeInPercent: Int = 20, reviewCouponPercent: Int = 5, reviewCouponDays: Int = 30, returnsDays: Int = 30) {
        self.logisticsCouponAmount = logisticsCouponAmount
        self.logisticsCouponMonths = logisticsCouponMonths
        self.surveyCouponPercent = surveyCouponPercent
        self.tradeInPercent = tradeInPercent
        self.reviewCouponPercent = reviewCouponPercent
        self.reviewCouponDays = reviewCouponDays
        self.returnsDays = returnsDays
    }
}
