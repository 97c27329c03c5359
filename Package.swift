// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "aftersales",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "aftersales", targets: ["aftersales"]),
        .library(name: "AftersalesKit", targets: ["AftersalesKit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift.git", exact: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", exact: "1.16.2"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", exact: "2.1.1"),
        .package(url: "https://github.com/jpsim/Yams.git", exact: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", exact: "3.12.3"),
        .package(url: "https://github.com/yaslab/CSV.swift.git", exact: "2.5.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", exact: "2.28.1"),
    ],
    targets: [
        // The domain model: plain Sendable values. Imports nothing of ours.
        .target(name: "AftersalesDomain"),
        // Rules and planning: pure functions from facts to planned mail. No I/O, no clock.
        .target(name: "AftersalesPlanning", dependencies: ["AftersalesDomain"]),
        // libcurl, through a system-library target with a small typed C shim.
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        // Store (GRDB), mail (templates, MIME), transport (SMTP, file), config, engine.
        .target(
            name: "AftersalesKit",
            dependencies: [
                "AftersalesDomain",
                "AftersalesPlanning",
                "CCurl",
                .product(name: "GRDB", package: "GRDB.swift"),
                // The SQLite functions a column's fast path reads with (GRDB's `StatementColumnConvertible`).
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Yams", package: "Yams"),
                // SHA-256 of every archived message.
                .product(name: "Crypto", package: "swift-crypto"),
                // Streaming CSV reader of `aftersales import`, writer of `aftersales report --csv`.
                .product(name: "CSV", package: "CSV.swift"),
                // `aftersales serve`: the buyer's answers over HTTP.
                .product(name: "Hummingbird", package: "hummingbird"),
            ]
        ),
        // The thin command-line front end.
        .executableTarget(
            name: "aftersales",
            dependencies: [
                "AftersalesKit",
                "AftersalesDomain",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // `make bench`: the benchmark runner (not part of the product).
        .executableTarget(
            name: "aftersales-bench",
            dependencies: [
                "AftersalesKit",
                "AftersalesDomain",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                // Row 6d: CSV.swift alone reading the import's file.
                .product(name: "CSV", package: "CSV.swift"),
            ]
        ),
        .testTarget(
            name: "AftersalesTests",
            dependencies: ["AftersalesKit", "AftersalesDomain", "AftersalesPlanning", .product(name: "Mustache", package: "swift-mustache")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
