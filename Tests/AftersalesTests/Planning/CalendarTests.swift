import AftersalesDomain
@testable import AftersalesPlanning
import Foundation
import Testing

@Suite("Market calendar on Foundation's calendar")
struct CalendarTests {
    @Test("where daylight saving skips midnight, a skipped day starts at 01:00 (the weekend is passed, not repeated)")
    func midnightGap() throws {
        let santiago = try #require(TimeZone(identifier: "America/Santiago"))
        // Chile moves its clocks from 00:00 to 01:00 on Sunday 6 September 2026.
        #expect(Timestamp.instant(year: 2026, month: 9, day: 5, minutes: 24 * 60, zone: santiago) == t("2026-09-06T04:00:00Z"))
        let (opening, why) = MarketCalendar().nextOpening(at: t("2026-09-05T15:00:00Z"), zone: santiago, country: "CL")
        #expect(opening == t("2026-09-07T12:00:00Z"), "Monday 09:00 -03:00")
        #expect(why == ["2026-09-05 is a weekend day in CL", "2026-09-06 is a weekend day in CL", "before business hours (09:00 local)"])
    }

    @Test("weekdays and business hours across the autumn change, in the recipient's zone")
    func autumnChange() throws {
        let berlin = try #require(TimeZone(identifier: "Europe/Berlin"))
        let (monday, _) = MarketCalendar().nextOpening(at: t("2026-10-24T10:00:00Z"), zone: berlin, country: "DE")
        #expect(monday == t("2026-10-26T08:00:00Z"), "Saturday in CEST, then Monday 09:00 CET")
        #expect(MarketCalendar.isRamadan(t("2027-02-15T12:00:00Z"), zone: TimeZone(identifier: "Asia/Riyadh")!))
        #expect(!MarketCalendar.isRamadan(t("2027-04-15T12:00:00Z"), zone: TimeZone(identifier: "Asia/Riyadh")!))
    }
}
