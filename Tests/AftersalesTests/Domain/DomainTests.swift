import AftersalesDomain
import Foundation
import Testing

@Suite("Domain validation")
struct DomainTests {
    @Test("valid addresses are accepted, including internationalized domains",
          arguments: ["a@b.co", "first.last+tag@sub.example.com", "ventas@exportación.mx", "o'neil@example.ie"])
    func validEmails(_ raw: String) throws {
        #expect(try EmailAddress(raw).value == raw)
    }

    @Test("invalid addresses name the field and the value",
          arguments: ["", "bob", "bob@", "@example.com", "a@b", "a..b@example.com", "a b@example.com", "a@-x.com", "a@example.123",
                      "x@example.com\r\nBcc: victim@example.com"])
    func invalidEmails(_ raw: String) {
        #expect(throws: InvalidInput.self) { try EmailAddress(raw, field: "email") }
        do { _ = try EmailAddress(raw, field: "email") } catch {
            #expect(error.field == "email")
            #expect(error.value == raw)
            #expect(!error.description.contains("\n"))
        }
    }

    @Test("locale tags are canonicalized and have a fallback chain")
    func locales() throws {
        #expect(try LocaleTag("es-mx").value == "es-MX")
        #expect(try LocaleTag("zh-hans").value == "zh-Hans")
        #expect(try LocaleTag("ar").fallbackChain == ["ar", "en"])
        #expect(try LocaleTag("es-MX").fallbackChain == ["es-MX", "es", "en"])
        #expect(try LocaleTag("zh-Hans-CN").fallbackChain == ["zh-Hans-CN", "zh-Hans", "zh", "en"])
        for bad in ["", "x", "qq", "english", "es-ZZ", "es-MX-extra-1", "zh_Hans_CN_x"] {
            #expect(throws: InvalidInput.self, "\(bad)") { try LocaleTag(bad) }
        }
    }

    @Test("countries and time zones are checked against ISO 3166 and IANA")
    func countriesAndZones() throws {
        #expect(try CountryCode("mx").value == "MX")
        #expect(throws: InvalidInput.self) { try CountryCode("QQ") }
        #expect(throws: InvalidInput.self) { try CountryCode("MEX") }
        #expect(try TimeZoneID("Asia/Riyadh").value == "Asia/Riyadh")
        #expect(throws: InvalidInput.self) { try TimeZoneID("Mars/Olympus") }
        #expect(throws: InvalidInput.self) { try TimeZoneID("") }
    }

    @Test("instants parse from ISO 8601 with offsets and dates, and reject garbage")
    func instants() throws {
        #expect(Timestamp.utc(try Timestamp.parse("2026-11-23T12:30:00+03:00", field: "at")) == "2026-11-23T09:30:00Z")
        #expect(Timestamp.utc(try Timestamp.parse("2026-12-01", field: "eta")) == "2026-12-01T00:00:00Z")
        #expect(Timestamp.utc(try Timestamp.parse("2026-11-23T09:30:00.250Z", field: "at")) == "2026-11-23T09:30:00Z")
        #expect(try Timestamp.parse("2026-11-23T09:30:00.250Z", field: "at").timeIntervalSince1970 == 1_795_426_200.25)
        #expect(Timestamp.utc(try Timestamp.parse("2024-02-29T23:59:59-05:30", field: "at")) == "2024-03-01T05:29:59Z")
        #expect(Timestamp.utc(try Timestamp.parse("1969-12-31T23:59:59Z", field: "at")) == "1969-12-31T23:59:59Z")
        #expect(Timestamp.rfc5322(t("2026-11-23T09:30:05Z")) == "Mon, 23 Nov 2026 09:30:05 +0000")
        #expect(Timestamp.rfc5322(t("2024-02-29T00:00:00Z")) == "Thu, 29 Feb 2024 00:00:00 +0000")
        #expect(Timestamp.rfc5322(t("1969-12-31T23:59:59Z")) == "Wed, 31 Dec 1969 23:59:59 +0000")
        #expect(Timestamp.rfc5322(t("2027-01-03T07:08:09Z")) == "Sun, 03 Jan 2027 07:08:09 +0000")
        for bad in ["yesterday", "2026-13-01", "2026-11-23 09:30", "", "1700000000", "2026-02-29", "2026-04-31T10:00:00Z",
                    "2026-11-23T24:00:00Z", "2026-11-23T09:30:00", "2026-11-23T09:30:00.Z", "2026-11-23T09:30:00+0300", "2026-11-23T09:30:00Zjunk"] {
            #expect(throws: InvalidInput.self, "\(bad)") { try Timestamp.parse(bad, field: "at") }
        }
        #expect(Timestamp.local(t("2026-11-23T09:30:00Z"), in: TimeZone(identifier: "Asia/Riyadh")!) == "2026-11-23T12:30:00+03:00")
    }

    @Test("what Foundation's lenient ISO 8601 parser would take is refused; what RFC 3339 allows is taken")
    func strictInstants() throws {
        for bad in ["2026-11-23T09:30:60Z", "2026-11-31", "2026-11-23T09:30:00+03", "2026-11-23T09:30:00+24:00", "2026-11-23T09:30:00+03:0x",
                    "2026-11-23T09:30Z", "2026-11-23T09:30:00.5", " 2026-11-23T09:30:00Z junk"] {
            let error = #expect(throws: InvalidInput.self, "\(bad)") { try Timestamp.parse(bad, field: "at") }
            #expect(error?.description == "at \"\(bad)\": expected an ISO 8601 time like 2026-11-23T09:30:00Z (or a date like 2026-12-01)")
        }
        #expect(try Timestamp.parse("2026-11-23t09:30:00z", field: "at") == t("2026-11-23T09:30:00Z"))
        #expect(try Timestamp.parse(" 2026-11-23T09:30:00+00:00 ", field: "at") == t("2026-11-23T09:30:00Z"))
        #expect(try Timestamp.parse("2026-11-23T12:30:00.5+03:00", field: "at").timeIntervalSince1970 == 1_795_426_200.5)
        #expect(Timestamp.utc(Date(timeIntervalSince1970: 1_795_426_205.999)) == "2026-11-23T09:30:05Z", "seconds are cut, not rounded")
        #expect(Timestamp.utc(Date(timeIntervalSince1970: -0.5)) == "1969-12-31T23:59:59Z")
    }

    @Test("wall-clock instants: across a DST gap, as far after it as into it; 24:00 is the next midnight")
    func wallClockInstants() throws {
        let berlin = try #require(TimeZone(identifier: "Europe/Berlin"))
        #expect(Timestamp.instant(year: 2026, month: 3, day: 29, minutes: 150, zone: berlin) == t("2026-03-29T01:30:00Z"), "02:30 does not exist: 03:30 CEST")
        #expect(Timestamp.instant(year: 2026, month: 3, day: 28, minutes: 24 * 60, zone: berlin) == t("2026-03-28T23:00:00Z"))
        #expect(Timestamp.instant(year: 2026, month: 12, day: 31, minutes: 24 * 60, zone: berlin) == t("2026-12-31T23:00:00Z"))
        #expect(Timestamp.fields(t("2026-10-25T00:30:00Z"), in: berlin) == (2026, 10, 25, 2, 30))
    }

    @Test("local times west of UTC, at half hours, across a date line; calendar days zero-padded")
    func localTimes() {
        #expect(Timestamp.local(t("2026-11-23T02:05:09Z"), in: TimeZone(identifier: "America/St_Johns")!) == "2026-11-22T22:35:09-03:30")
        #expect(Timestamp.local(t("2026-11-23T20:00:00Z"), in: TimeZone(identifier: "Asia/Kolkata")!) == "2026-11-24T01:30:00+05:30")
        #expect(Timestamp.local(t("2026-07-01T12:00:00Z"), in: TimeZone(identifier: "Europe/Berlin")!) == "2026-07-01T14:00:00+02:00")
        #expect(Timestamp.local(t("2026-01-01T00:00:00Z"), in: TimeZone(identifier: "UTC")!) == "2026-01-01T00:00:00+00:00")
        #expect(Timestamp.day(987, 3, 4) == "0987-03-04")
        #expect(Timestamp.day(2026, 12, 31) == "2026-12-31")
    }

    @Test("order lines parse SKU:QTY[:PRICE] in minor units")
    func orderLines() throws {
        #expect(try OrderLine.parse("PUMP-200:4:129900") == OrderLine(sku: "PUMP-200", quantity: 4, unitPriceMinor: 129_900))
        #expect(try OrderLine.parse("V:1") == OrderLine(sku: "V", quantity: 1))
        for bad in ["PUMP", "PUMP:0", "PUMP:-1", "PUMP:2:12.50", ":2", "P:2:3:4", "P:x"] {
            #expect(throws: InvalidInput.self, "\(bad)") { try OrderLine.parse(bad) }
        }
    }

    @Test("scores and ratings are range-checked")
    func scores() throws {
        #expect(try SurveyAnswer.score(0) == 0)
        #expect(try SurveyAnswer.score(10) == 10)
        #expect(throws: InvalidInput.self) { try SurveyAnswer.score(11) }
        #expect(throws: InvalidInput.self) { try SurveyAnswer.score(-1) }
        #expect(try Complaint.rating(5) == 5)
        #expect(throws: InvalidInput.self) { try Complaint.rating(0) }
        #expect(SurveyAnswer(orderID: "O", score: 10, answeredAt: .now).segment == .promoter)
        #expect(SurveyAnswer(orderID: "O", score: 7, answeredAt: .now).segment == .passive)
        #expect(SurveyAnswer(orderID: "O", score: 6, answeredAt: .now).segment == .detractor)
    }

    @Test("names with line breaks are refused; free text keeps them")
    func singleLines() throws {
        #expect(throws: InvalidInput.self) { try Text.line("Bob\r\nBcc: x@y.com", field: "name") }
        #expect(try Text.required("line one\r\nline two", field: "text") == "line one\r\nline two")
        let error = #expect(throws: InvalidInput.self) { try Text.line("a\nb", field: "name") }
        #expect(error?.description == #"name "a\nb": must be a single line (no line breaks)"#)
    }
}
