"""The HTTP app: token auth, audio validation up front (4xx with a message), long work as jobs."""

from __future__ import annotations

import base64
import binascii
import threading

import numpy as np
from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from .. import __version__
from ..audio.languages import checked_language
from ..audio.loading import load_audio, trimmed
from ..audio.types import Audio, Phone
from ..errors import InputError
from ..nonverbal.options import nonverbal_options
from ..pipeline import TalkingFacePipeline, checked_segments
from ..retarget.arkit_to_flame import FlameRetarget
from .file_access import FileAccess, PathRefused
from .jobs import JobQueue, QueueFull
from .limits import RequestGate, ServerLimits
from .schemas import (
    API_VERSION, ERROR_REPLIES, JOB_ERROR_REPLIES, NOT_FOUND_REPLY, AnimateRequest, AudioInput, FlameHead,
    FlameHeadRequest, Health, InstructRequest, JobCreated, JobStatus, ListenRequest, RetargetCreated, RetargetRequest,
)

FLAME_JAW_KEY_RADIANS = 0.35  # the add-on's FLAME_jaw shape key = this much jaw opening
MAX_RETARGETS = 256  # each is a 52×50 matrix; the oldest is forgotten beyond this
RETRY_AFTER_SECONDS = 5
DECODES_AT_ONCE = 2  # requests decoding audio at the same time (the two cores; memory stays bounded)


def create_app(pipeline: TalkingFacePipeline, token: str, *, max_audio_seconds: float,
               limits: ServerLimits = ServerLimits(), files: FileAccess = FileAccess()) -> FastAPI:
    app = FastAPI(
        title="AVI-Talking model server",
        version=__version__,
        openapi_url=f"/{API_VERSION}/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.add_middleware(RequestGate, token=token, max_body_bytes=limits.max_body_bytes)
    jobs = JobQueue(max_queued=limits.max_queued_jobs, keep_seconds=limits.job_keep_seconds)
    retargets: dict[str, FlameRetarget] = {}
    retargets_lock = threading.Lock()
    app.state.jobs = jobs

    @app.exception_handler(InputError)
    async def input_error(request: Request, exc: InputError):
        return JSONResponse({"detail": str(exc)}, status_code=400)

    @app.exception_handler(PathRefused)
    async def path_refused(request: Request, exc: PathRefused):
        return JSONResponse({"detail": str(exc)}, status_code=403)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError):
        # Never echo the input back: it may be NaN (not JSON), huge, or a secret.
        detail = [{"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
                  for e in exc.errors()]
        return JSONResponse({"detail": detail}, status_code=422)

    @app.exception_handler(QueueFull)
    async def queue_full(request: Request, exc: QueueFull):
        return JSONResponse({"detail": str(exc)}, status_code=429, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})

    decoding = threading.BoundedSemaphore(DECODES_AT_ONCE)

    def read_audio(body: AudioInput) -> Audio:
        """The request's audio, decoded only where a job could be queued for it, and by at most
        DECODES_AT_ONCE requests at a time (each within the decoded-size budget of load_audio)."""
        jobs.check_room()
        with decoding:
            if body.audio_path is not None:
                audio = load_audio(files.readable(body.audio_path, "audio_path"), max_seconds=max_audio_seconds)
            else:
                audio = load_audio(_b64(body.audio_b64, "audio_b64"), filename=body.filename,
                                   max_seconds=max_audio_seconds)
        return trimmed(audio, body.clip_start, body.clip_end)

    def find_retarget(retarget_id: str | None) -> FlameRetarget | None:
        if retarget_id is None:
            return None
        with retargets_lock:
            found = retargets.get(retarget_id)
        if found is None:
            raise HTTPException(404, f"unknown retarget_id {retarget_id[:80]!r}: create it with POST /v1/retargets")
        return found

    @app.get(f"/{API_VERSION}/health", response_model=Health)
    def health() -> dict:
        return {"status": "ok", "version": __version__, "models": pipeline.describe(),
                "synthesis": {"available": pipeline.synthesis_models, "default": pipeline.default_synthesis}}

    @app.post(f"/{API_VERSION}/instruct", response_model=JobCreated, status_code=202, responses=JOB_ERROR_REPLIES)
    def instruct(body: InstructRequest) -> dict:
        audio = read_audio(body)
        language = checked_language(body.language)  # an unknown language is a 400 now, not a failed job
        job = jobs.submit("instruct", lambda progress, cancel: pipeline.instruct(
            audio, body.transcript, language=language, progress=progress, cancel=cancel))
        return {"job_id": job.job_id}

    @app.post(f"/{API_VERSION}/animate", response_model=JobCreated, status_code=202,
              responses={**JOB_ERROR_REPLIES, **NOT_FOUND_REPLY})
    def animate(body: AnimateRequest) -> dict:
        audio = read_audio(body)
        retarget = find_retarget(body.retarget_id)
        segments = [s.model_dump() for s in body.segments] if body.segments else None
        if segments:  # outside the clip or without text: refused now, not as a failed job
            checked_segments(segments, audio.duration, body.instruction)
        pipeline.synthesizer_named(body.synthesis)  # an unknown or missing model is a 400 now, not a failed job
        language = checked_language(body.language)
        gaze = body.gaze if isinstance(body.gaze, str) else body.gaze.model_dump()
        nonverbal = nonverbal_options(body.head_motion, gaze)  # a target at the eyes is a 400 now

        def animate_takes(progress, cancel) -> dict:
            takes = pipeline.takes(
                audio, transcript=body.transcript, instruction=body.instruction, segments=segments,
                seed=body.seed, samples=body.samples, guidance=body.guidance, synthesis=body.synthesis,
                fps=body.fps, retarget=retarget, layers=body.layers, language=language, nonverbal=nonverbal,
                progress=progress, cancel=cancel)
            return dict(takes[0], takes=takes)  # still a curves document (take 1) for readers of one take

        job = jobs.submit("animate", animate_takes)
        return {"job_id": job.job_id}

    @app.post(f"/{API_VERSION}/listen", responses=ERROR_REPLIES)
    def listen(body: ListenRequest) -> dict:
        """A listener's curves document over the speaker's line (quick: no speech to analyse)."""
        if body.duration > max_audio_seconds:
            raise InputError(f"the line lasts {body.duration:.0f} s, longer than the limit of {max_audio_seconds:.0f} s")
        gaze = body.gaze if isinstance(body.gaze, str) else body.gaze.model_dump()
        return pipeline.listening(
            [Phone(p.phone, p.start, p.end) for p in body.phones], [s.model_dump() for s in body.segments or []],
            body.duration, fps=body.fps, seed=body.seed, nonverbal=nonverbal_options(body.head_motion, gaze))

    def status_or_404(job) -> dict:
        if job is None:
            raise HTTPException(404, f"unknown job: it belongs to another server, or it finished more than "
                                     f"{jobs.keep_seconds:g} s ago (or was read more than "
                                     f"{jobs.keep_after_read_seconds:g} s ago)")
        return job.status()

    @app.get(f"/{API_VERSION}/jobs/{{job_id}}", response_model=JobStatus, responses=NOT_FOUND_REPLY)
    def job_status(job_id: str) -> dict:
        return status_or_404(jobs.get(job_id))

    @app.post(f"/{API_VERSION}/jobs/{{job_id}}/cancel", response_model=JobStatus, responses=NOT_FOUND_REPLY)
    def cancel_job(job_id: str) -> dict:
        return status_or_404(jobs.cancel(job_id))

    @app.post(f"/{API_VERSION}/retargets", response_model=RetargetCreated, responses=ERROR_REPLIES)
    def create_retarget(body: RetargetRequest) -> dict:
        if body.flame_model_path:
            retarget = FlameRetarget.from_flame_model(files.readable(body.flame_model_path, "flame_model_path"))
        else:
            retarget = FlameRetarget.from_expression_basis(*_basis_arrays(body))
        retarget_id = retarget.info.get("sha256") or retarget.info.get("id")
        with retargets_lock:
            retargets.pop(retarget_id, None)
            retargets[retarget_id] = retarget  # newest last: the oldest goes first beyond the cap
            while len(retargets) > MAX_RETARGETS:
                retargets.pop(next(iter(retargets)))
        return {"retarget_id": retarget_id, "info": retarget.info}

    @app.post(f"/{API_VERSION}/flame_head", response_model=FlameHead, responses=ERROR_REPLIES)
    def flame_head(body: FlameHeadRequest) -> dict:
        from ..retarget.flame_model import load_flame_model

        model = load_flame_model(files.readable(body.flame_model_path, "flame_model_path"))
        vertices, faces, basis = model.template_mesh()
        return {
            "num_vertices": int(vertices.shape[0]),
            "num_faces": int(faces.shape[0]),
            "num_expressions": int(basis.shape[0]),
            "vertices_b64": _encode(vertices, np.float32),
            "faces_b64": _encode(faces, np.int32),
            "expression_basis_b64": _encode(basis, np.float32),
            "jaw_open_b64": _encode(model.jaw_open_offsets(FLAME_JAW_KEY_RADIANS), np.float32),
        }

    @app.on_event("shutdown")
    def stop_jobs() -> None:
        jobs.shutdown()

    return app


def _b64(text: str, field: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:  # its message is only ever about the padding or alphabet
        reason = "its length is not a multiple of 4" if "multiple of 4" in str(exc) or "padding" in str(exc) \
            else "it holds characters outside the base64 alphabet"
        raise InputError(f"{field} is not valid base64: {reason}") from exc


def _floats(data: bytes, field: str) -> np.ndarray:
    """Little-endian float32s; a length that is not a whole number of them is the client's mistake."""
    if len(data) % 4:
        raise InputError(f"{field} decodes to {len(data)} bytes, which is not a whole number of 4-byte floats")
    return np.frombuffer(data, dtype="<f4")


def _encode(array: np.ndarray, dtype) -> str:
    return base64.b64encode(np.ascontiguousarray(array, dtype=np.dtype(dtype).newbyteorder("<")).tobytes()).decode()


def _basis_arrays(body: RetargetRequest) -> tuple[np.ndarray, np.ndarray]:
    if not (body.vertices_b64 is not None and body.expression_basis_b64 is not None
            and body.num_vertices and body.num_expressions):
        raise InputError("give flame_model_path, or num_vertices, num_expressions, vertices_b64 and expression_basis_b64")
    v, k = body.num_vertices, body.num_expressions
    vertices = _floats(_b64(body.vertices_b64, "vertices_b64"), "vertices_b64")
    basis = _floats(_b64(body.expression_basis_b64, "expression_basis_b64"), "expression_basis_b64")
    if vertices.size != v * 3 or basis.size != k * v * 3:
        raise InputError(f"expected {v * 3} vertex floats and {k * v * 3} basis floats, got {vertices.size} and {basis.size}")
    return vertices.reshape(v, 3).astype(np.float64), basis.reshape(k, v, 3).astype(np.float64)
