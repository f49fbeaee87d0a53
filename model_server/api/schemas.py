"""Request and response bodies of API v1. docs/api.md documents them; FastAPI serves them as OpenAPI."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..config import MAX_SEED, MAX_TAKES
from ..synthesis.registry import SYNTHESIZERS

API_VERSION = "v1"
MAX_TEXT_CHARS = 20_000  # a transcript or instruction longer than this is not dialogue


class Body(BaseModel):
    """Every request body: NaN and infinity are refused in any number, unknown fields are ignored."""
    model_config = ConfigDict(allow_inf_nan=False)


class ErrorReply(BaseModel):
    detail: str | list[dict[str, Any]] = Field(description=(
        "What was wrong, in words to show the user; for 422, a list of {loc, msg, type} per bad field."))


ERROR_REPLIES = {
    400: {"model": ErrorReply, "description": "Input the server cannot use (audio, mesh, file), with the reason."},
    401: {"model": ErrorReply, "description": "Missing or wrong bearer token."},
    403: {"model": ErrorReply, "description": "A path outside the folders this server reads (servers off loopback)."},
    413: {"model": ErrorReply, "description": "The request body is larger than the server's limit."},
    422: {"model": ErrorReply, "description": "A field has the wrong type or is out of range."},
}
JOB_ERROR_REPLIES = {**ERROR_REPLIES, 429: {"model": ErrorReply, "description": (
    "Too many jobs queued; the reply's Retry-After header says when to try again.")}}
NOT_FOUND_REPLY = {404: {"model": ErrorReply, "description": "No such job or retarget (see the job retention)."}}


class AudioInput(Body):
    model_config = ConfigDict(json_schema_extra={"oneOf": [{"required": ["audio_path"]}, {"required": ["audio_b64"]}]})

    audio_path: str | None = Field(None, max_length=4096, description=(
        "Path on the server's machine. A server on another host than loopback reads only files under its "
        "--audio-root folders, or refuses audio_path without them."))
    audio_b64: str | None = Field(None, description="Base64 file bytes (remote servers).")
    filename: str = Field("<upload>", max_length=255, description="Name used in messages and to guess the format.")
    clip_start: float | None = Field(None, ge=0, allow_inf_nan=False,
                                     description="Seconds into the file where the part to animate begins "
                                                 "(a trimmed sound strip); curves frame 0 is this time.")
    clip_end: float | None = Field(None, gt=0, allow_inf_nan=False,
                                   description="Seconds into the file where the part to animate ends.")

    @model_validator(mode="after")
    def exactly_one_audio_source(self):
        if (self.audio_path is None) == (self.audio_b64 is None):
            raise ValueError("give exactly one of audio_path or audio_b64")
        return self


class InstructRequest(AudioInput):
    transcript: str | None = Field(None, max_length=MAX_TEXT_CHARS,
                                   description="Dialogue text: forced alignment instead of recognition.")
    language: str = Field("en", max_length=12, pattern=r"^[A-Za-z][A-Za-z0-9-]*$", description=(
        "en (pocketsphinx), auto (told from the speech) or a language code eSpeak NG speaks (fr, es, ru …)."))


class Segment(Body):
    start: float = Field(ge=0, description="Seconds from the start of the part animated.")
    end: float = Field(gt=0)
    instruction: str = Field(max_length=MAX_TEXT_CHARS, description="Empty: the request's `instruction`.")

    @model_validator(mode="after")
    def ends_after_it_starts(self):
        if self.end <= self.start:
            raise ValueError(f"the segment ends ({self.end:g} s) before it starts ({self.start:g} s)")
        return self


class GazeDirection(BaseModel):
    model_config = ConfigDict(extra="forbid")
    direction: list[float] = Field(min_length=2, max_length=2)


class GazePoint(BaseModel):
    model_config = ConfigDict(extra="forbid")
    point: list[float] = Field(min_length=3, max_length=3)


class GazePoints(BaseModel):
    model_config = ConfigDict(extra="forbid")
    points: list[list[float]] = Field(min_length=1, max_length=4096)


GazeField = Literal["camera", "forward"] | GazeDirection | GazePoint | GazePoints


class AnimateRequest(InstructRequest):
    instruction: str | None = Field(None, max_length=MAX_TEXT_CHARS,
                                    description="Whole-clip instruction; omitted: the agent writes one.")
    segments: list[Segment] | None = Field(None, max_length=10_000, description=(
        "Per-segment instructions, overriding `instruction`; each must overlap the part animated."))
    seed: int = Field(0, ge=0, le=MAX_SEED, description="Seed of take 1; take k uses seed + k - 1.")
    samples: int = Field(1, ge=1, le=MAX_TAKES, description="Takes to make (different seeds, one speech analysis).")
    guidance: float | None = Field(None, ge=0, allow_inf_nan=False,
                                   description="Guidance scale of the learned model's style sampling; "
                                               "omitted: the model's own. The baseline ignores it.")
    synthesis: str | None = Field(None, description=f"Synthesis model: {' or '.join(SYNTHESIZERS)}; "
                                                    "omitted: the server's default (see /v1/health).")
    fps: float = Field(25.0, gt=0, le=240)
    retarget_id: str | None = Field(None, description="From POST /v1/retargets; omitted: the server's default.")
    layers: bool = Field(False, description="Also return each take as lips, expression, eyes and blinks layers "
                                            "(arkit.layers, flame.layers) that add up to it.")
    head_motion: float = Field(1.0, ge=0, le=2, allow_inf_nan=False,
                               description="How much the head moves with the voice: 0 exactly still, 1 default, up "
                                           "to 2. Blinks and gaze do not depend on it.")
    gaze: GazeField = Field("camera", description=(
        'Where eye contact is: "camera" or "forward" (straight ahead), {"direction": [yaw, pitch]} in degrees '
        '(+ to the speaker\'s left and down), or {"point": [x, y, z]} in metres in the head\'s frame (x to the '
        "speaker's left, y up, z forward), or {\"points\": [[x, y, z], …]}: a moving target, points spread evenly "
        "over the clip."))


class SpokenPhone(Body):
    phone: str = Field(max_length=8)
    start: float = Field(ge=0)
    end: float = Field(ge=0)


class ListenRequest(Body):
    """A listener's face over another character's line, from that line's phones and instruction."""

    duration: float = Field(gt=0, description="Seconds: the speaker's line, which the listener's curves cover.")
    phones: list[SpokenPhone] = Field(max_length=100_000, description="The speaker's phones (its curves' `phones`).")
    segments: list[Segment] | None = Field(None, max_length=10_000,
                                           description="The speaker's segments: the listener echoes their emotion.")
    fps: float = Field(25.0, gt=0, le=240)
    seed: int = Field(0, ge=0, le=MAX_SEED)
    head_motion: float = Field(1.0, ge=0, le=2, allow_inf_nan=False)
    gaze: GazeField = Field("camera", description="Where the speaker is, as for /v1/animate.")


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


class RetargetRequest(Body):
    flame_model_path: str | None = Field(None, max_length=4096)
    num_vertices: int | None = Field(None, ge=1, le=10_000_000)
    num_expressions: int | None = Field(None, ge=1, le=1000)
    vertices_b64: str | None = Field(None, description="float32 little-endian, V*3")
    expression_basis_b64: str | None = Field(None, description="float32 little-endian, K*V*3 (key minus basis)")


class RetargetCreated(BaseModel):
    retarget_id: str
    info: dict[str, Any]


class FlameHeadRequest(Body):
    flame_model_path: str = Field(max_length=4096)


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
