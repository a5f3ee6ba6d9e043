"""Record ROS 2 messages into a rosbag2 (mcap) with `rosbags`, serialized by rosbags itself.

rclpy messages are copied field by field into rosbags' message classes, guided by the typestore's
field definitions, so the bag carries exact type names and hashes and reads back anywhere
(`ros2 bag play` on Jazzy, rosbags everywhere). Thread-safe: callbacks and the worker both write.
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
from rosbags.rosbag2 import StoragePlugin, Writer
from rosbags.typesys import Stores, get_typestore
from rosbags.typesys.base import Nodetype

NUMPY_TYPES = {
    "bool": np.bool_, "byte": np.uint8, "char": np.uint8, "octet": np.uint8, "int8": np.int8, "uint8": np.uint8,
    "int16": np.int16, "uint16": np.uint16, "int32": np.int32, "uint32": np.uint32, "int64": np.int64,
    "uint64": np.uint64, "float32": np.float32, "float64": np.float64,
}


class BagError(ValueError):
    """A bag that cannot be written or read."""


def message_type_name(message: Any) -> str:
    """'pkg/msg/Name' of an rclpy message instance."""
    module = type(message).__module__.split(".")  # e.g. std_msgs.msg._string
    return f"{module[0]}/msg/{type(message).__name__}"


def to_rosbags(message: Any, msgtype: str, typestore: Any) -> Any:
    """A rosbags message equal to `message` (an rclpy message or any object with the same fields)."""
    _, fielddefs = typestore.fielddefs[msgtype]
    cls = typestore.types[msgtype]
    values = {name: _convert(getattr(message, name), definition, typestore) for name, definition in fielddefs}
    return cls(**values)


def _convert(value: Any, definition: tuple, typestore: Any) -> Any:
    kind, detail = definition
    if kind == Nodetype.NAME:
        return to_rosbags(value, detail, typestore)
    if kind == Nodetype.BASE:
        base = detail[0]
        if base in ("byte", "char", "octet") and isinstance(value, (bytes, bytearray)):
            return int(value[0]) if value else 0
        return value
    element, _size = detail
    element_kind, element_detail = element
    if element_kind == Nodetype.NAME:
        return [to_rosbags(item, element_detail, typestore) for item in value]
    base = element_detail[0]
    if base == "string":
        return list(value)
    if isinstance(value, (bytes, bytearray)):
        return np.frombuffer(bytes(value), dtype=np.uint8).copy()
    return np.asarray(list(value), dtype=NUMPY_TYPES[base])


class BagRecorder:
    """Appends messages to one mcap rosbag2 folder; `close()` finalizes it (metadata.yaml)."""

    def __init__(self, folder: str | Path, store: Stores = Stores.ROS2_JAZZY) -> None:
        self.folder = Path(folder)
        if self.folder.exists():
            raise BagError(f"bag folder {self.folder} already exists; rosbag2 writes a new folder")
        self.folder.parent.mkdir(parents=True, exist_ok=True)
        self.typestore = get_typestore(store)
        self._writer = Writer(self.folder, version=9, storage_plugin=StoragePlugin.MCAP)
        self._writer.open()
        self._connections: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._closed = False

    def write(self, topic: str, message: Any, stamp_ns: int) -> None:
        msgtype = message_type_name(message)
        bag_message = to_rosbags(message, msgtype, self.typestore)
        data = self.typestore.serialize_cdr(bag_message, msgtype)
        with self._lock:
            if self._closed:
                return
            if topic not in self._connections:
                self._connections[topic] = self._writer.add_connection(topic, msgtype, typestore=self.typestore)
            self._writer.write(self._connections[topic], int(stamp_ns), data)

    def write_serialized(self, topic: str, msgtype: str, data: bytes, stamp_ns: int) -> None:
        """Append a message already serialized as CDR (a raw subscription's bytes), unchanged."""
        with self._lock:
            if self._closed:
                return
            if topic not in self._connections:
                self._connections[topic] = self._writer.add_connection(topic, msgtype, typestore=self.typestore)
            self._writer.write(self._connections[topic], int(stamp_ns), bytes(data))

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._writer.close()


def read_bag(folder: str | Path, store: Stores = Stores.ROS2_JAZZY) -> list[tuple[str, int, Any]]:
    """Every message of a rosbag2 folder as (topic, timestamp_ns, rosbags message), in time order."""
    from rosbags.rosbag2 import Reader

    folder = Path(folder)
    if not (folder / "metadata.yaml").is_file():
        raise BagError(f"{folder} is not a rosbag2 folder (no metadata.yaml)")
    typestore = get_typestore(store)
    try:
        with Reader(folder) as reader:
            return [
                (connection.topic, timestamp, typestore.deserialize_cdr(raw, connection.msgtype))
                for connection, timestamp, raw in reader.messages()
            ]
    except Exception as error:  # rosbags raises several types for damaged bags
        if isinstance(error, BagError):
            raise
        raise BagError(f"cannot read bag {folder}: {error}") from error
