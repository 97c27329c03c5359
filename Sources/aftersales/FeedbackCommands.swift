import Foundation
import AftersalesDomain
import AftersalesKit
import ArgumentParser

struct SurveyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "survey", abstract: "Record survey answers.",
                                                    discussion: "Example: aftersales survey record --order SO-1001 --score 8 --liked quality",
                                                    subcommands: [Record.self])
}

extension SurveyCommand {
    struct Record: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "record",
            abstract: "Record the buyer's answer to the one-minute survey.",
            discussion: "Example: aftersales survey record --order SO-1001 --score 8 --reason 'slow customs paperwork' --liked quality --intent yes"
        )
        @OptionGroup var global: GlobalOptions
        @Option(help: "The order's id.") var order: String
        @Option(help: "0 to 10.") var score: SurveyScore
        @Option(help: "Why this score.") var reason: String?
        @Option(help: "What pleased most (repeatable).") var liked: [ServiceAspect] = []
        @Option(help: "Buying again within 3 months.") var intent: RepurchaseIntent?
        @OptionGroup var at: AtOption

        func run() throws {
            let ws = try global.workspace(.readWrite)
            let answer = SurveyAnswer(orderID: order, score: score.value, reason: reason, liked: liked, intent: intent, answeredAt: at.date(ws))
            let recorded = try ws.store.recordSurvey(answer, now: ws.now)
            global.emit(recorded, TextReport.survey(recorded))
        }
    }
}

struct ReviewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "review", abstract: "Record platform reviews.",
                                                    discussion: "Example: aftersales review record --order SO-1001 --positive",
                                                    subcommands: [Record.self])
}

extension ReviewCommand {
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
            let review = Review(orderID: order, positive: sentiment == .positive, text: text, reviewedAt: at.date(ws))
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
