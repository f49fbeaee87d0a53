"""Add-on preferences: how to reach the model process, the user's FLAME model, and which agent writes instructions.

The local model process is restarted when these change (server_process.start compares its command line).
"""


import bpy
from bpy.props import EnumProperty, FloatProperty, IntProperty, StringProperty


class AVI_TALKING_Preferences(bpy.types.AddonPreferences):
    bl_idname = __package__

    server_mode: EnumProperty(
        name="Model server",
        items=[("LOCAL", "Start locally", "The add-on starts the model process on this machine"),
               ("REMOTE", "Connect to running server", "Use a server already running (e.g. a GPU machine)")],
        default="LOCAL",
    )
    python_path: StringProperty(
        name="Python interpreter", subtype="FILE_PATH",
        description="Python with the model server's packages (README set-up creates .venv/bin/python). "
                    "Empty: Blender's own Python",
    )
    setup_python: StringProperty(
        name="Python for set-up", subtype="FILE_PATH",
        description="The Python that Set Up Model Environment makes the environment with (3.11-3.13). "
                    "Empty: Blender's own Python",
    )
    setup_status: StringProperty(name="Set-up", description="Outcome of the last set-up")
    remote_url: StringProperty(name="Server URL", default="http://127.0.0.1:8765")
    remote_token: StringProperty(name="Token", subtype="PASSWORD")
    flame_model_path: StringProperty(
        name="FLAME model", subtype="FILE_PATH",
        description="Your FLAME model file (.pkl or .npz from the FLAME authors): used for the FLAME "
                    "retarget and the Add FLAME Head operator",
    )
    max_audio_minutes: FloatProperty(name="Longest audio (min)", default=30.0, min=0.1, max=600.0,
                                     description="The model process refuses longer audio at once")
    default_seed: IntProperty(name="Default seed", default=0, min=0,
                              description="Seed of scenes whose own seed was never changed")
    agent: EnumProperty(
        name="Instruction agent",
        items=[("learned", "Learned (speech + language model)", "The paper's agent: a Q-Former reads the "
                                                                 "speech, a local language model writes; reads "
                                                                 "the words well, takes seconds per 10 s of "
                                                                 "speech on a CPU"),
               ("baseline", "Built-in rules", "Prosody and keyword rules of the model process: instant, "
                                              "but read the words only through a small word list"),
               ("endpoint", "Local LLM server", "An OpenAI-compatible chat server on this machine or the "
                                                "network (llama.cpp, Ollama) reads transcript and prosody")],
        default="learned",
    )
    agent_url: StringProperty(name="LLM server URL", default="http://127.0.0.1:8080/v1",
                              description="Root of the OpenAI-compatible API, ending in /v1")
    agent_model: StringProperty(name="LLM model", default="default",
                                description="Model name the LLM server expects (Ollama: e.g. smollm2:135m)")
    agent_lm_path: StringProperty(name="Language model folder", subtype="DIR_PATH", default="",
                                  description="A transformers causal-LM folder the learned agent's adapter was "
                                              "trained for; empty: the packaged SmolLM2-135M-Instruct")
    agent_weights_path: StringProperty(name="Agent adapter folder", subtype="DIR_PATH", default="",
                                       description="A learned agent trained with model_server.train.train_agent; "
                                                   "empty: the one shipped with the extension")

    def draw(self, context):
        layout = self.layout
        layout.prop(self, "server_mode")
        if self.server_mode == "LOCAL":
            box = layout.box()
            row = box.row(align=True)
            row.operator("avi_talking.setup_environment", icon="PACKAGE")
            row.operator("avi_talking.remove_environment", text="", icon="TRASH")
            row.operator("avi_talking.open_setup_log", text="", icon="TEXT")
            box.prop(self, "setup_python")
            if self.setup_status:
                box.label(text=self.setup_status[:160], icon="ERROR" if "failed" in self.setup_status else "INFO")
            layout.prop(self, "python_path")
        else:
            layout.prop(self, "remote_url")
            layout.prop(self, "remote_token")
        layout.prop(self, "flame_model_path")
        layout.prop(self, "max_audio_minutes")
        layout.prop(self, "default_seed")
        layout.prop(self, "agent")
        if self.agent == "endpoint":
            layout.prop(self, "agent_url")
            layout.prop(self, "agent_model")
        elif self.agent == "learned":
            layout.prop(self, "agent_weights_path")
            layout.prop(self, "agent_lm_path")


def get_preferences(context: bpy.types.Context | None = None) -> AVI_TALKING_Preferences | None:
    """None when the add-on is registered without being enabled (then defaults apply)."""
    context = context or bpy.context
    addon = context.preferences.addons.get(__package__)
    return addon.preferences if addon else None


classes = (AVI_TALKING_Preferences,)
