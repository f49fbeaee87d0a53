"""The worker thread and the main-thread apply step, without a model process."""

from __future__ import annotations

import socket

import pytest


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_failed_job_is_reported_once_and_changes_nothing(scene, blender, addon):
    bpy, jobs = blender, addon("jobs")
    actions_before = len(bpy.data.actions)
    job = jobs.Job("generate", lambda client: client.submit_animate(
        "/nonexistent.wav", transcript=None, instruction=None, segments=None, seed=0, fps=25.0),
        lambda context, result: pytest.fail("a failed job must not be applied"),
        jobs.Connection("REMOTE", url=f"http://127.0.0.1:{closed_port()}", token="t"))
    jobs.start(job)
    jobs.wait(job)
    assert jobs.apply_finished_job(bpy.context) is job
    assert job.state == "failed" and "not reachable" in job.error
    assert scene.avi_talking.last_status.startswith("generate failed: model server at")
    status = bpy.context.window_manager.avi_talking_job
    assert (status.kind, status.state) == ("generate", "failed") and "not reachable" in status.error
    assert jobs.apply_finished_job(bpy.context) is None  # a result is applied once, never twice
    assert len(bpy.data.actions) == actions_before


def test_one_job_at_a_time(blender, addon):
    jobs = addon("jobs")
    hold = jobs.Job("analyze", lambda client: pytest.fail("cancelled before submitting"), lambda c, r: "",
                    jobs.Connection("REMOTE", url=f"http://127.0.0.1:{closed_port()}", token="t"))
    # A job whose worker is not started yet still counts as running: a second one is refused.
    jobs._active = hold
    try:
        with pytest.raises(addon("client").ServerError, match="another AVI-Talking job is still running"):
            jobs.start(jobs.Job("generate", lambda client: "", lambda c, r: "", jobs.Connection()))
        assert not blender.ops.avi_talking.generate.poll()
        assert blender.ops.avi_talking.cancel.poll()
        blender.ops.avi_talking.cancel()
        assert hold.cancel_requested.is_set()
    finally:
        hold.run()  # cancelled before submitting: ends at once
        jobs.apply_finished_job(blender.context)
    assert hold.state == "cancelled"
    assert blender.context.scene.avi_talking.last_status == "analyze cancelled, nothing was changed"


def test_operator_errors_before_the_job_starts(scene, blender):
    with pytest.raises(RuntimeError, match="choose the face mesh"):
        blender.ops.avi_talking.generate()
    blender.ops.mesh.primitive_cube_add()
    scene.avi_talking.target = blender.context.object
    with pytest.raises(RuntimeError, match="no FLAME expression keys"):
        blender.ops.avi_talking.generate()
    with pytest.raises(RuntimeError, match="add the dialogue as a sound strip"):
        blender.ops.avi_talking.analyze()


def test_scenes_use_the_default_seed_until_their_own_is_set(scene, blender, addon):
    prefs = blender.context.preferences.addons["bl_ext.user_default.avi_talking_blender"].preferences
    effective_seed = addon("properties").effective_seed
    prefs.default_seed = 7
    try:
        assert effective_seed(scene.avi_talking, prefs) == 7
        scene.avi_talking.seed = 0  # chosen explicitly, even if equal to the property's default
        assert effective_seed(scene.avi_talking, prefs) == 0
    finally:
        prefs.default_seed = 0
