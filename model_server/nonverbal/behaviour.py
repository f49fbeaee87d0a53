"""How each emotion moves the head, the eyes and the expression: figures as data, not code paths.

Sources for the figures (each row below says which it follows):
- Head motion by emotion: Busso, Deng, Grimm, Lee & Narayanan, "Rigid head motion in expressive speech
  animation" (IEEE TASLP 2007): angry and happy speech move the head more and faster than neutral speech,
  sad speech less and slower. The scales below keep that order; the neutral scale puts the standard deviation
  of head rotation at a few degrees, as conversational head motion is measured.
- Head and brows on accents: Graf, Cosatto, Strom & Huang, "Visual prosody: facial movements accompanying
  speech" (FG 2002): head nods and brow raises cluster on pitch-accented syllables, the head's peak a little
  after the accent's onset.
- Eyes: Lee, Badler & Badler, "Eyes Alive" (SIGGRAPH 2002): saccade magnitude A (degrees) is drawn with
  P(A) ∝ exp(-A / 6.9) (their fit A = -6.9 log(P / 15.7)), saccade duration D = D0 + d·A with D0 = 25 ms and
  d = 2.4 ms per degree; talking and listening have separate gaze statistics. Eye contact shares: speakers
  look at their listener about 40 % of the time and listeners at the speaker about 75 % (Argyle & Cook,
  "Gaze and Mutual Gaze", 1976); TalkingHead's defaults (met4citizen) use 0.5 eye contact while speaking,
  and so does the neutral speaker here. Short lines come out higher: the look-aways end with each phrase,
  and a line ends in eye contact.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

SACCADE_MEAN_DEG = 6.9  # Eyes Alive: P(A) ∝ exp(-A / 6.9)
SACCADE_MIN_DEG, SACCADE_MAX_DEG = 4.0, 15.0  # a look-away leaves the listener's face; larger shifts turn the head too
# Eye contact is not a stare: the eyes move between the other's eyes and mouth (Yarbus 1967), points about
# 1-2° apart at conversational distance, a fixation lasting about half a second; (yaw, pitch) degrees.
FACE_POINTS_DEG = ((1.2, 0.0), (-1.2, 0.0), (0.0, 2.0))
FACE_FIXATION_S = 0.5
SACCADE_D0_S, SACCADE_D_PER_DEG_S = 0.025, 0.0024  # Eyes Alive: D = D0 + d·A
# Gaze away: left and right most often, up more often than down, diagonals between (Eyes Alive's
# direction table has the same order); (yaw sign, pitch sign, weight), pitch + is down.
AWAY_DIRECTIONS = ((1, 0, 0.18), (-1, 0, 0.18), (0, -1, 0.16), (0, 1, 0.08),
                   (1, -1, 0.1), (-1, -1, 0.1), (1, 1, 0.1), (-1, 1, 0.1))
# ARKit eyeLook weight 1.0 in radians: fitted on a public Live Link Face recording (eyeLookDown 0.28 at
# 0.171 rad of pitch; eyeLookIn 0.056 at 0.031 rad of yaw).
EYE_LOOK_YAW_RAD, EYE_LOOK_PITCH_RAD = 0.56, 0.61
# Head-eye coordination: within an eye-only range the eyes alone reach a target; beyond it the head turns the
# rest of the way (Stahl, "Amplitude of human head movements associated with horizontal saccades", Exp.
# Brain Res. 1999: an eye-only range of about ±16-20° that varies between people; vertically it is smaller).
EYE_ONLY_YAW_DEG, EYE_ONLY_PITCH_DEG = 16.0, 10.0
LID_FOLLOW = 0.35  # eyeBlink added per unit of eyeLookDown: the upper lid follows the eye down
BROW_FOLLOW_UP = 0.15  # eyeWide added per unit of eyeLookUp


@dataclass(frozen=True)
class HeadStyle:
    beat_deg: float  # pitch nod on an accent of strength 1
    beat_s: float  # time from an accent's onset to the nod's lowest point
    yaw_beat_deg: float  # a turn on strong accents
    posture_deg: float  # spread of the head's resting turn and tilt, new each phrase
    drift_deg: float  # slow wander
    end_nod_deg: float  # a nod as a phrase ends
    pause_level: float  # share of the motion kept in a long pause


@dataclass(frozen=True)
class GazeStyle:
    contact: float  # share of speaking time in eye contact
    away_s: float  # mean look-away fixation
    avert_at_start: float  # chance of looking away as an utterance starts (planning what to say)
    pitch_bias_deg: float  # + looks down (sad), - up


@dataclass(frozen=True)
class ExpressionStyle:
    breathing: float  # how far the expression's strength follows the voice's arousal (0 none)
    emphasis: dict  # ARKit channel → extra weight on an accent of strength 1


@dataclass(frozen=True)
class Behaviour:
    head: HeadStyle
    gaze: GazeStyle
    expression: ExpressionStyle


NEUTRAL_HEAD = HeadStyle(beat_deg=2.2, beat_s=0.16, yaw_beat_deg=0.8, posture_deg=2.5, drift_deg=1.0,
                         end_nod_deg=1.5, pause_level=0.25)
NEUTRAL_GAZE = GazeStyle(contact=0.5, away_s=0.8, avert_at_start=0.6, pitch_bias_deg=0.0)
# Visual prosody: a neutral speaker raises the brows on accents.
BROW_RAISE = {"browInnerUp": 0.16, "browOuterUpLeft": 0.12, "browOuterUpRight": 0.12}

BEHAVIOURS: dict[str, Behaviour] = {
    "neutral": Behaviour(NEUTRAL_HEAD, NEUTRAL_GAZE, ExpressionStyle(0.2, BROW_RAISE)),
    # Busso et al.: angry speech, the largest and sharpest head motion; frowns and squints on accents.
    "angry": Behaviour(replace(NEUTRAL_HEAD, beat_deg=3.6, beat_s=0.11, yaw_beat_deg=1.6, posture_deg=3.0,
                               end_nod_deg=2.5),
                       replace(NEUTRAL_GAZE, contact=0.65, avert_at_start=0.3),
                       ExpressionStyle(0.35, {"browDownLeft": 0.2, "browDownRight": 0.2, "eyeSquintLeft": 0.15,
                                              "eyeSquintRight": 0.15, "noseSneerLeft": 0.08, "noseSneerRight": 0.08})),
    # Happy: lively, more turning and tilting, brows and cheeks up on accents.
    "happy": Behaviour(replace(NEUTRAL_HEAD, beat_deg=3.0, beat_s=0.14, yaw_beat_deg=1.4, posture_deg=4.0,
                               drift_deg=1.6),
                       replace(NEUTRAL_GAZE, contact=0.55),
                       ExpressionStyle(0.3, {"cheekSquintLeft": 0.12, "cheekSquintRight": 0.12, "browInnerUp": 0.1,
                                             "browOuterUpLeft": 0.12, "browOuterUpRight": 0.12})),
    # Sad: low and slow, the gaze lowered and often away.
    "sad": Behaviour(replace(NEUTRAL_HEAD, beat_deg=1.0, beat_s=0.26, yaw_beat_deg=0.3, posture_deg=1.5,
                             drift_deg=0.8, end_nod_deg=0.8, pause_level=0.15),
                     replace(NEUTRAL_GAZE, contact=0.35, away_s=1.4, pitch_bias_deg=6.0),
                     ExpressionStyle(0.15, {"browInnerUp": 0.14})),
    "surprised": Behaviour(replace(NEUTRAL_HEAD, beat_deg=2.8, beat_s=0.13, posture_deg=3.0),
                           replace(NEUTRAL_GAZE, contact=0.6),
                           ExpressionStyle(0.3, {"browInnerUp": 0.18, "browOuterUpLeft": 0.18, "browOuterUpRight": 0.18,
                                                 "eyeWideLeft": 0.12, "eyeWideRight": 0.12})),
    "fearful": Behaviour(replace(NEUTRAL_HEAD, beat_deg=1.8, beat_s=0.12, posture_deg=2.0, drift_deg=1.4),
                         replace(NEUTRAL_GAZE, contact=0.4, away_s=0.6),
                         ExpressionStyle(0.3, {"browInnerUp": 0.16, "eyeWideLeft": 0.12, "eyeWideRight": 0.12})),
    "disgusted": Behaviour(replace(NEUTRAL_HEAD, beat_deg=2.4, posture_deg=3.0),
                           replace(NEUTRAL_GAZE, contact=0.45),
                           ExpressionStyle(0.25, {"noseSneerLeft": 0.15, "noseSneerRight": 0.15,
                                                  "mouthUpperUpLeft": 0.06, "mouthUpperUpRight": 0.06})),
    "contempt": Behaviour(replace(NEUTRAL_HEAD, beat_deg=1.8, posture_deg=3.5),
                          replace(NEUTRAL_GAZE, contact=0.5),
                          ExpressionStyle(0.2, {"mouthSmileLeft": 0.08, "eyeSquintLeft": 0.08, "eyeSquintRight": 0.08})),
}


def behaviour_for(emotion: str) -> Behaviour:
    return BEHAVIOURS.get(emotion, BEHAVIOURS["neutral"])
