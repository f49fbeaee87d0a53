"""Which files on the server's machine a request may name (audio_path, flame_model_path).

A server on loopback serves the user of this machine: whoever holds its token may name any file
the server's user can read. A server on another address may be reached by other people, so it reads
only files under the folders it was given (`serve --file-root`), and none without them."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError


class PathRefused(InputError):
    """The request names a file this server does not read for its clients (answered 403)."""


@dataclass(frozen=True)
class FileAccess:
    any_path: bool = True
    roots: tuple[Path, ...] = ()

    @classmethod
    def for_host(cls, host: str, roots: list[Path] | tuple[Path, ...] = ()) -> "FileAccess":
        loopback = host in ("127.0.0.1", "::1", "localhost") or host.startswith("127.")
        return cls(any_path=loopback and not roots, roots=tuple(Path(r).resolve() for r in roots))

    def readable(self, path: str, field: str) -> Path:
        if self.any_path:
            return Path(path)
        if not self.roots:
            raise PathRefused(f"{field}: this server reads no files named in requests; send the file itself "
                              f"(audio_b64), or start the server with --file-root FOLDER")
        try:
            resolved = Path(os.path.realpath(path))  # links resolved: a link inside a root cannot point out
        except (OSError, ValueError) as exc:
            raise PathRefused(f"{field}: not a usable path") from exc
        # The same words whether or not the file exists: a client learns nothing outside the roots.
        if not any(resolved.is_relative_to(root) for root in self.roots):
            raise PathRefused(f"{field}: outside the folders this server reads files from")
        return resolved
