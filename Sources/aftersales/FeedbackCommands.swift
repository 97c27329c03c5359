import Foundation
import AftersalesDomain
import AftersalesKit
import ArgumentParser

struct SurveyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "survey", abstract: "Record survey answers.", subcommands: [Record.self])

    struct Record: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "record",
            abstract: "Record the buyer's answer to the one-minute survey.",
            discussion: "Example: aftersales survey record --order SO-1001 --score 8 --reason 'slow customs paperwork' --liked quality --intent yes"
        )
        @OptionGroup var global: GlobalOptions
        @Option(help: "The order's id.") var order: String
        @Option(help: "0 to 10.") var score: Int
        @Option(help: "Why this score.") var reason: String?
        @Option(help: "What pleased most: logistics, support, quality (repeatable).") var liked: [String] = []
        @Option(help: "Buying again within 3 months: yes, no or unsure.") var intent: String?
        @OptionGroup var at: AtOption

        func answer(at: Date) throws(InvalidInput) -> SurveyAnswer {
            SurveyAnswer(orderID: order, score: try SurveyAnswer.score(score), reason: reason,
                         liked: try liked.map { l throws(InvalidInput) in try ServiceAspect(parsing: l) },
                         intent: try intent.map { i throws(InvalidInput) in try RepurchaseIntent(parsing: i) }, answeredAt: at)
        }

        func validate() throws {
            try check { () throws(InvalidInput) in _ = try answer(at: .distantPast) }
        }

        func run() throws {
            let ws = try global.workspace(.readWrite)
            let when = try ws.settings.instant(at.at)
            let recorded = try ws.store.recordSurvey(try AftersalesError.checked { () throws(InvalidInput) in try answer(at: when) }, now: ws.now)
            global.emit(recorded, TextReport.survey(recorded))
        }
    }
}

struct ReviewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "review", abstract: "Record platform reviews.", subcommands: [Record.self])

    struct Record: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "record",
            abstract: "Record feedback the buyer left on a selling platform.",
            discussion: "Example: aftersales review record --order SO-1001 --negative --text 'Arrived late.'"
        )
        @OptionGroup var global: GlobalOptions
        @Option(help: "The order's id.") var order: String
        @Flag(help: "Positive or negative feedback.") var sentiment: Sentiment
        @Option(help: "What the buyer wrote.") var text: String?
        @OptionGroup var at: AtOption

        enum Sentiment: String, EnumerableFlag { case positive, negative }

        func run() throws {
            let ws = try global.workspace(.readWrite)
            let review = Review(orderID: order, positive: sentiment == .positive, text: text, reviewedAt: try ws.settings.instant(at.at))
            let recorded = try ws.store.recordReview(review, now: ws.now)
            global.emit(recorded, TextReport.review(recorded))
        }
    }
}

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Count what is stored.",
                                                    discussion: "Example: aftersales status --json")
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let ws = try global.workspace(.readOnly)
        let status = try ws.store.status()
        global.emit(status, TextReport.status(status, database: ws.settings.databasePath))
    }
}
