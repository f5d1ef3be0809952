import Logging
import Metrics
import ServiceLifecycle
