import Hummingbird
import Logging
import Prometheus
import ServiceLifecycle

/// The operations endpoints every Prescore daemon serves, for Kubernetes probes and Prometheus:
///
/// - `GET /healthz`: 200 while the process serves HTTP at all (liveness);
/// - `GET /readyz`: 200 when `isReady` says so, else 503 (readiness: e.g. PostgreSQL reachable);
/// - `GET /metrics`: the registry in Prometheus' text format.
///
/// None of them touches a database or blocks: they answer from memory on the event loop.
public enum OperationsServer {
    public static func application(
        host: String, port: Int, registry: PrometheusCollectorRegistry,
        isReady: @escaping @Sendable () -> Bool, logger: Logger
    ) -> some Service {
        let router = Router()
        router.get("healthz") { _, _ in "ok\n" }
        router.get("readyz") { _, _ -> Response in
            let ready = isReady()
            return Response(
                status: ready ? .ok : .serviceUnavailable,
                headers: [.contentType: "text/plain; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: ready ? "ready\n" : "not ready\n")))
        }
        router.get("metrics") { _, _ -> Response in
            var text: [UInt8] = []
            registry.emit(into: &text)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: text)))
        }
        return Application(
            router: router,
            configuration: .init(address: .hostname(host, port: port), serverName: "prescore"),
            logger: logger)
    }
}
