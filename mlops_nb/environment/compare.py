"""``mlops-nb env diff``: what differs between two runs' environments."""

from __future__ import annotations

from dataclasses import dataclass

from mlops_nb.environment import RunEnvironment


@dataclass(frozen=True)
class EnvDiff:
    a: str
    b: str
    python: tuple[str, str] | None
    platform: tuple[str, str] | None
    added: dict[str, str]  # in b only
    removed: dict[str, str]  # in a only
    changed: dict[str, tuple[str, str]]

    @property
    def identical(self) -> bool:
        return not (self.python or self.platform or self.added or self.removed or self.changed)

    def lines(self) -> list[str]:
        if self.identical:
            return [f"runs {self.a} and {self.b} ran in the same environment"]
        out = [f"a: {self.a}", f"b: {self.b}"]
        if self.python:
            out.append(f"python: {self.python[0]} -> {self.python[1]}")
        if self.platform:
            out.append(f"platform: {self.platform[0]} -> {self.platform[1]}")
        out += [f"  + {k}=={v}" for k, v in sorted(self.added.items())]
        out += [f"  - {k}=={v}" for k, v in sorted(self.removed.items())]
        out += [f"  ~ {k}: {a} -> {b}" for k, (a, b) in sorted(self.changed.items())]
        return out

    def as_dict(self) -> dict[str, object]:
        return {
            "a": self.a,
            "b": self.b,
            "identical": self.identical,
            "python": list(self.python) if self.python else None,
            "platform": list(self.platform) if self.platform else None,
            "added": self.added,
            "removed": self.removed,
            "changed": {k: list(v) for k, v in self.changed.items()},
        }


def diff(a: RunEnvironment, b: RunEnvironment) -> EnvDiff:
    """Packages added, removed, changed (every package, tooling included), Python and platform."""
    pa, pb = a.packages, b.packages
    return EnvDiff(
        a=a.run_id,
        b=b.run_id,
        python=(a.python, b.python) if a.python != b.python else None,
        platform=(a.platform, b.platform) if a.platform != b.platform else None,
        added={k: pb[k] for k in pb.keys() - pa.keys()},
        removed={k: pa[k] for k in pa.keys() - pb.keys()},
        changed={k: (pa[k], pb[k]) for k in pa.keys() & pb.keys() if pa[k] != pb[k]},
    )
