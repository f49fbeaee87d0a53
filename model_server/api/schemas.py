"""Request and response bodies of API v1. The README documents them; FastAPI serves them as OpenAPI."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

API_VERSION = "v1"


class AudioInput(BaseModel):
    audio_path: str | None = Field(None, description="Path on the server's machine (local servers).")
    audio_b64: str | None = Field(None, description="Base64 file bytes (remote servers).")
    filename: str = Field("<upload>", description="Name used in messages and to guess the format.")


class InstructRequest(AudioInput):
    transcript: str | None = Field(None, description="Dialogue text: forced alignment instead of recognition.")


class Segment(BaseModel):
    start: float
    end: float
    instruction: str


class AnimateRequest(InstructRequest):
    instruction: str | None = Field(None, description="Whole-clip instruction; omitted: the agent writes one.")
    segments: list[Segment] | None = Field(None, description="Per-segment instructions, overriding `instruction`.")
    seed: int = 0
    fps: float = Field(25.0, gt=0, le=240)
    retarget_id: str | None = Field(None, description="From POST /v1/retargets; omitted: the server's default.")


class JobCreated(BaseModel):
    job_id: str


class JobStatus(BaseModel):
    job_id: str
    kind: Literal["instruct", "animate"]
    state: Literal["queued", "running", "succeeded", "failed", "cancelled"]
    progress: float
    stage: str
    error: str | None = None
    result: dict[str, Any] | None = None


class RetargetRequest(BaseModel):
    flame_model_path: str | None = None
    num_vertices: int | None = None
    num_expressions: int | None = None
    vertices_b64: str | None = Field(None, description="float32 little-endian, V*3")
    expression_basis_b64: str | None = Field(None, description="float32 little-endian, K*V*3 (key minus basis)")


class RetargetCreated(BaseModel):
    retarget_id: str
    info: dict[str, Any]


class FlameHeadRequest(BaseModel):
    flame_model_path: str


class FlameHead(BaseModel):
    num_vertices: int
    num_faces: int
    num_expressions: int
    vertices_b64: str
    faces_b64: str
    expression_basis_b64: str
    jaw_open_b64: str = Field(description="float32 V*3: offsets of the jaw opened by 0.35 rad")


class Health(BaseModel):
    status: Literal["ok"]
    version: str
    models: dict[str, Any]
