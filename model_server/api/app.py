"""The HTTP app: token auth, audio validation up front (4xx with a message), long work as jobs."""

from __future__ import annotations

import base64
import binascii
import hmac
import threading

import numpy as np
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse

from .. import __version__
from ..audio.loading import load_audio, trimmed
from ..audio.types import Audio
from ..errors import InputError
from ..pipeline import TalkingFacePipeline
from ..retarget.arkit_to_flame import FlameRetarget
from .jobs import JobQueue

FLAME_JAW_KEY_RADIANS = 0.35  # the add-on's FLAME_jaw shape key = this much jaw opening
from .schemas import (
    API_VERSION, AnimateRequest, AudioInput, FlameHead, FlameHeadRequest, Health, InstructRequest,
    JobCreated, JobStatus, RetargetCreated, RetargetRequest,
)


def create_app(pipeline: TalkingFacePipeline, token: str, *, max_audio_seconds: float) -> FastAPI:
    app = FastAPI(
        title="AVI-Talking model server",
        version=__version__,
        openapi_url=f"/{API_VERSION}/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    jobs = JobQueue()
    retargets: dict[str, FlameRetarget] = {}
    retargets_lock = threading.Lock()
    app.state.jobs = jobs

    @app.middleware("http")
    async def require_token(request: Request, call_next):
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return JSONResponse({"detail": "missing or wrong token"}, status_code=401)
        return await call_next(request)

    @app.exception_handler(InputError)
    async def input_error(request: Request, exc: InputError):
        return JSONResponse({"detail": str(exc)}, status_code=400)

    def read_audio(body: AudioInput) -> Audio:
        if (body.audio_path is None) == (body.audio_b64 is None):
            raise InputError("give exactly one of audio_path or audio_b64")
        if body.audio_path is not None:
            audio = load_audio(body.audio_path, max_seconds=max_audio_seconds)
        else:
            audio = load_audio(_b64(body.audio_b64, "audio_b64"), filename=body.filename, max_seconds=max_audio_seconds)
        return trimmed(audio, body.clip_start, body.clip_end)

    def find_retarget(retarget_id: str | None) -> FlameRetarget | None:
        if retarget_id is None:
            return None
        with retargets_lock:
            found = retargets.get(retarget_id)
        if found is None:
            raise HTTPException(404, f"unknown retarget_id {retarget_id!r}: create it with POST /v1/retargets")
        return found

    @app.get(f"/{API_VERSION}/health", response_model=Health)
    def health() -> dict:
        return {"status": "ok", "version": __version__, "models": pipeline.describe(),
                "synthesis": {"available": pipeline.synthesis_models, "default": pipeline.default_synthesis}}

    @app.post(f"/{API_VERSION}/instruct", response_model=JobCreated, status_code=202)
    def instruct(body: InstructRequest) -> dict:
        audio = read_audio(body)
        job = jobs.submit("instruct", lambda progress, cancel: pipeline.instruct(
            audio, body.transcript, progress=progress, cancel=cancel))
        return {"job_id": job.job_id}

    @app.post(f"/{API_VERSION}/animate", response_model=JobCreated, status_code=202)
    def animate(body: AnimateRequest) -> dict:
        audio = read_audio(body)
        retarget = find_retarget(body.retarget_id)
        segments = [s.model_dump() for s in body.segments] if body.segments else None
        pipeline.synthesizer_named(body.synthesis)  # an unknown or missing model is a 400 now, not a failed job

        def animate_takes(progress, cancel) -> dict:
            takes = pipeline.takes(
                audio, transcript=body.transcript, instruction=body.instruction, segments=segments,
                seed=body.seed, samples=body.samples, guidance=body.guidance, synthesis=body.synthesis,
                fps=body.fps, retarget=retarget, progress=progress, cancel=cancel)
            return dict(takes[0], takes=takes)  # still a curves document (take 1) for readers of one take

        job = jobs.submit("animate", animate_takes)
        return {"job_id": job.job_id}

    def status_or_404(job) -> dict:
        if job is None:
            raise HTTPException(404, "unknown job: it finished long ago or belongs to another server")
        return job.status()

    @app.get(f"/{API_VERSION}/jobs/{{job_id}}", response_model=JobStatus)
    def job_status(job_id: str) -> dict:
        return status_or_404(jobs.get(job_id))

    @app.post(f"/{API_VERSION}/jobs/{{job_id}}/cancel", response_model=JobStatus)
    def cancel_job(job_id: str) -> dict:
        return status_or_404(jobs.cancel(job_id))

    @app.post(f"/{API_VERSION}/retargets", response_model=RetargetCreated)
    def create_retarget(body: RetargetRequest) -> dict:
        if body.flame_model_path:
            retarget = FlameRetarget.from_flame_model(body.flame_model_path)
        else:
            retarget = FlameRetarget.from_expression_basis(*_basis_arrays(body))
        retarget_id = retarget.info.get("sha256") or retarget.info.get("id")
        with retargets_lock:
            retargets[retarget_id] = retarget
        return {"retarget_id": retarget_id, "info": retarget.info}

    @app.post(f"/{API_VERSION}/flame_head", response_model=FlameHead)
    def flame_head(body: FlameHeadRequest) -> dict:
        from ..retarget.flame_model import load_flame_model

        model = load_flame_model(body.flame_model_path)
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
    except (binascii.Error, ValueError) as exc:
        raise InputError(f"{field} is not valid base64: {exc}") from exc


def _encode(array: np.ndarray, dtype) -> str:
    return base64.b64encode(np.ascontiguousarray(array, dtype=np.dtype(dtype).newbyteorder("<")).tobytes()).decode()


def _basis_arrays(body: RetargetRequest) -> tuple[np.ndarray, np.ndarray]:
    if not (body.vertices_b64 and body.expression_basis_b64 and body.num_vertices and body.num_expressions):
        raise InputError("give flame_model_path, or num_vertices, num_expressions, vertices_b64 and expression_basis_b64")
    v, k = body.num_vertices, body.num_expressions
    vertices = np.frombuffer(_b64(body.vertices_b64, "vertices_b64"), dtype="<f4")
    basis = np.frombuffer(_b64(body.expression_basis_b64, "expression_basis_b64"), dtype="<f4")
    if vertices.size != v * 3 or basis.size != k * v * 3:
        raise InputError(f"expected {v * 3} vertex floats and {k * v * 3} basis floats, got {vertices.size} and {basis.size}")
    return vertices.reshape(v, 3).astype(np.float64), basis.reshape(k, v, 3).astype(np.float64)
