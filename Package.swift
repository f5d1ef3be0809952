// swift-tools-version: 6.0
import PackageDescription

/// Settings every Prescore target shares: Swift 6 language mode (strict concurrency) and
/// `any` spelled out for existentials.
let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny")
]

/// The scoring kernel's second build (`PrescoreScoringAVX2`, see `AVX2Scorer`): AVX2 code on x86-64
/// in release builds, chosen at run time by the CPU. Debug builds and other architectures build it
/// as it is (a second copy of the baseline kernel): unoptimized code leaves the standard library's
/// vector operators as functions shared with PrescoreCore's copy, which must not hold AVX2
/// instructions (`scripts/check-avx2-kernel.sh`).
#if arch(x86_64)
    let avx2Settings: [SwiftSetting] = [
        .define("PRESCORE_SCORING_AVX2"), .unsafeFlags(["-Xcc", "-mavx2"], .when(configuration: .release)),
    ]
#else
    let avx2Settings: [SwiftSetting] = [.define("PRESCORE_SCORING_AVX2")]
#endif

let package = Package(
    name: "Prescore",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "prescore", targets: ["prescore"]),
        .executable(name: "prescore-bench", targets: ["PrescoreBench"]),
        .library(name: "PrescoreCore", targets: ["PrescoreCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/yaslab/CSV.swift", from: "2.5.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-numerics", from: "1.1.1"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
    ],
    targets: [
        // C libraries from Debian, found through pkg-config. Each shim.h is the only C the project has.
        .systemLibrary(
            name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(
            name: "CHiredis", pkgConfig: "hiredis", providers: [.apt(["libhiredis-dev"])]),
        .systemLibrary(
            name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),

        // Pure logic: job files, cron, models and scoring. No I/O, no C.
        .target(
            name: "PrescoreCore",
            dependencies: [
                .product(name: "Yams", package: "Yams"),
                .product(name: "RealModule", package: "swift-numerics"),
            ],
            swiftSettings: strictSettings),

        // The same scoring kernel built for AVX2 (its files are links to PrescoreCore's).
        .target(
            name: "PrescoreScoringAVX2", dependencies: ["PrescoreCore"],
            swiftSettings: strictSettings + avx2Settings),

        // One adapter per C library; their public APIs are Swift types only.
        .target(
            name: "PrescorePostgres", dependencies: ["CLibPQ", "PrescoreCore"],
            swiftSettings: strictSettings),
        .target(
            name: "PrescoreRedis", dependencies: ["CHiredis", "PrescoreCore"],
            swiftSettings: strictSettings),
        .target(
            name: "PrescoreHTTPClient", dependencies: ["CCurl"], swiftSettings: strictSettings),

        // Loading a jobs folder: job files and their models, one `LoadedJob` each. The CLI, the
        // scheduler and `serve` all load jobs here.
        .target(
            name: "PrescoreJobs",
            dependencies: ["PrescoreCore", "PrescoreScoringAVX2", "PrescoreHTTPClient"],
            swiftSettings: strictSettings),

        // The batch run: stream, score, write, publish. The scheduler and `prescore run` call it.
        .target(
            name: "PrescoreBatch", dependencies: ["PrescoreCore", "PrescorePostgres", "PrescoreRedis"],
            swiftSettings: strictSettings),

        // The scheduler daemon: slots, leases and attempts in PostgreSQL, runs on threads of their own.
        .target(
            name: "PrescoreScheduler",
            dependencies: [
                "PrescoreCore", "PrescoreJobs", "PrescorePostgres", "PrescoreBatch", "PrescoreHTTPClient",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: strictSettings),

        // HTTP served: `prescore serve` (scores by key, the realtime fallback) and the operations
        // endpoints (health, readiness, Prometheus metrics).
        .target(
            name: "PrescoreServer",
            dependencies: [
                "PrescoreCore", "PrescoreJobs", "PrescoreRedis", "PrescorePostgres", "PrescoreBatch",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings),

        // The commands: wiring of configuration, files and adapters. The executable only calls it.
        .target(
            name: "PrescoreCLI",
            dependencies: [
                "PrescoreCore", "PrescoreJobs", "PrescorePostgres", "PrescoreRedis", "PrescoreBatch",
                "PrescoreScheduler", "PrescoreServer", "PrescoreHTTPClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "CSV", package: "CSV.swift"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strictSettings),
        .executableTarget(
            name: "prescore",
            dependencies: [
                "PrescoreCLI", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strictSettings),
        .executableTarget(
            name: "PrescoreBench",
            dependencies: [
                "PrescoreCore", "PrescoreJobs", "PrescorePostgres", "PrescoreRedis",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            exclude: ["xgboost_inplace_predict.py"],
            swiftSettings: strictSettings),

        .testTarget(
            name: "PrescoreCoreTests",
            dependencies: [
                "PrescoreCore", "PrescoreScoringAVX2",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            exclude: ["Fixtures"], swiftSettings: strictSettings),
        // Helpers the integration tests share: server URLs and throwaway databases.
        .target(
            name: "PrescoreTestSupport", dependencies: ["PrescorePostgres"],
            path: "Tests/PrescoreTestSupport", swiftSettings: strictSettings),
        .testTarget(
            name: "PrescorePostgresTests", dependencies: ["PrescorePostgres", "PrescoreTestSupport"],
            swiftSettings: strictSettings),
        .testTarget(
            name: "PrescoreRedisTests",
            dependencies: [
                "PrescoreRedis", "PrescoreCore", "PrescoreTestSupport",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: strictSettings),
        .testTarget(
            name: "PrescoreHTTPClientTests", dependencies: ["PrescoreHTTPClient", "PrescoreTestSupport"],
            swiftSettings: strictSettings),
        .testTarget(
            name: "PrescoreServerTests",
            dependencies: [
                "PrescoreServer", "PrescoreCore", "PrescoreJobs", "PrescoreRedis", "PrescoreTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings),
        .testTarget(
            name: "PrescoreCLITests",
            dependencies: [
                "PrescoreCLI", "PrescoreCore", "PrescoreJobs", "PrescorePostgres", "PrescoreRedis",
                "PrescoreTestSupport", "PrescoreScheduler", "PrescoreBatch", "PrescoreHTTPClient",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings),
    ],
    swiftLanguageModes: [.v6]
)
