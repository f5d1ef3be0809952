import ArgumentParser
import Foundation
import PrescorePostgres
import PrescoreRedis

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check the connections to PostgreSQL and Redis and the settings runs depend on.",
        discussion: """
            Connects to both servers and prints, one line each: the server, its version, the prescore \
            schema version, and Redis' memory policy and hash listpack limits (the compact score \
            layout relies on them); warns when Redis refuses RESTORE (batch runs then write by HSET). \
            Exits 1 when either server cannot be used.
            """)

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var redis: RedisOptions

    func run() throws {
        var healthy = true
        do {
            let connection = try database.connect()
            let version = try connection.execute("SHOW server_version").scalar ?? "?"
            let applied = try Migrator().appliedVersions(connection).last
            let known = Migration.all.last?.version ?? 0
            let schema = applied.map { "schema prescore at version \($0)" } ?? "no prescore schema yet"
            print("ok    PostgreSQL \(connection.server): \(version), \(schema)")
            if (applied ?? 0) < known {
                print("      run `prescore migrate` to bring the schema to version \(known)")
            }
        } catch {
            healthy = false
            printError("error \(error)")
        }
        do {
            let connection = try redis.connect()
            let version = try connection.info("server")["redis_version"] ?? "?"
            var line = "ok    Redis \(connection.url): \(version)"
            // CONFIG may be forbidden to an ACL user on a managed Redis; that is not an error.
            if let settings = try? Self.settings(connection) {
                let memory =
                    settings["maxmemory"] == "0"
                    ? "no maxmemory" : "maxmemory \(settings["maxmemory"] ?? "?") bytes"
                line +=
                    ", \(memory) (policy \(settings["maxmemory-policy"] ?? "?")), hash listpack limits "
                    + "\(settings["hash-max-listpack-entries"] ?? "?") entries / \(settings["hash-max-listpack-value"] ?? "?") bytes"
                print(line)
                if let policy = settings["maxmemory-policy"], policy.hasPrefix("allkeys") {
                    print(
                        "      maxmemory-policy \(policy) may evict published scores; noeviction or volatile-* keeps them"
                    )
                }
            } else {
                print(line + " (CONFIG GET not permitted: memory settings not shown)")
            }
            if let refusal = try Self.restoreRefusal(connection) {
                print(
                    "      RESTORE refused (\(refusal)): batch runs will write scores by HSET, about ten times the Redis CPU"
                )
            }
        } catch {
            healthy = false
            printError("error \(error)")
        }
        if !healthy { throw ExitCode.failure }
    }

    /// Why Redis refuses this user's `RESTORE` of a one-field hash into a probe key (removed at
    /// once, and set to expire in a second anyway), or nil when it takes it: batch runs write whole
    /// buckets that way (see `ScoreWriter`).
    private static func restoreRefusal(_ connection: RedisConnection) throws -> String? {
        let key = Array("prescore:check:restore:\(ProcessInfo.processInfo.processIdentifier)".utf8)
        let payload = ListpackHashDump.payload([(Array("field".utf8), Array("value".utf8))])
        let reply = try connection.command(
            [Array("RESTORE".utf8), key, Array("1000".utf8), payload, Array("REPLACE".utf8)])
        if case .error(let message) = reply { return message }
        try connection.command([Array("DEL".utf8), key])
        return nil
    }

    private static func settings(_ connection: RedisConnection) throws -> [String: String] {
        var settings: [String: String] = [:]
        for name in ["maxmemory", "maxmemory-policy", "hash-max-listpack-entries", "hash-max-listpack-value"]
        {
            guard case .array(let pair) = try connection.command("CONFIG", "GET", name), pair.count == 2,
                let value = pair[1].string
            else {
                throw RedisError(.commandFailed, "CONFIG GET refused", server: connection.url.description)
            }
            settings[name] = value
        }
        return settings
    }
}
