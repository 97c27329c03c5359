// Temporary until the config merge.
extension Configuration {
    public var offers: OfferTerms { OfferTerms() }
}
