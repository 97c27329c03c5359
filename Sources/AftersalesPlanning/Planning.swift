import AftersalesDomain
import Foundation

/// Rules and planning: pure functions from recorded facts to planned mail.
/// No I/O and no clock: the instant taken as now is always a parameter.
public enum Planning {}
