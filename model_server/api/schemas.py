"""Request and response bodies of API v1. The README documents them; FastAPI serves them as OpenAPI."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from ..config import MAX_TAKES
from ..synthesis.registry import SYNTHESIZERS

API_VERSION = "v1"


class AudioInput(BaseModel):
    audio_path: str | None = Field(None, description="Path on the server's machine (local servers).")
    audio_b64: str | None = Field(None, description="Base64 file bytes (remote servers).")
    filename: str = Field("<upload>", description="Name used in messages and to guess the format.")
    clip_start: float | None = Field(None, ge=0, allow_inf_nan=False,
                                     description="Seconds into the file where the part to animate begins "
                                                 "(a trimmed sound strip); curves frame 0 is this time.")
    clip_end: float | None = Field(None, gt=0, allow_inf_nan=False,
                                   description="Seconds into the file where the part to animate ends.")


class InstructRequest(AudioInput):
    transcript: str | None = Field(None, description="Dialogue text: forced alignment instead of recognition.")


class Segment(BaseModel):
    start: float
    end: float
    instruction: str


class AnimateRequest(InstructRequest):
    instruction: str | None = Field(None, description="Whole-clip instruction; omitted: the agent writes one.")
    segments: list[Segment] | None = Field(None, description="Per-segment instructions, overriding `instruction`.")
    seed: int = Field(0, description="Seed of take 1; take k uses seed + k - 1.")
    samples: int = Field(1, ge=1, le=MAX_TAKES, description="Takes to make (different seeds, one speech analysis).")
    guidance: float | None = Field(None, ge=0, allow_inf_nan=False,
                                   description="Guidance scale of the learned model's style sampling; "
                                               "omitted: the model's own. The baseline ignores it.")
    synthesis: str | None = Field(None, description=f"Synthesis model: {' or '.join(SYNTHESIZERS)}; "
                                                    "omitted: the server's default (see /v1/health).")
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
    result: dict[str, Any] | None = Field(None, description=(
        "instruct: {instruction, segments, transcript, transcript_source, phones, alignment_method} "
        "(transcript_source 'recognized': the words the recogniser heard, for the user to correct). animate: take 1's curves "
        "document, plus `takes`: every take's curves document, take 1 first."))


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


class SynthesisModels(BaseModel):
    available: list[str] = Field(description="Names the animate request's `synthesis` accepts.")
    default: str = Field(description="Used when a request names none.")


class Health(BaseModel):
    status: Literal["ok"]
    version: str
    models: dict[str, Any]
    synthesis: SynthesisModels
