"""Per-frame IK targets from human joints: scaled keypoints, segment orientations, planted feet.

Keypoints listed in the YAML's ``rigid_keypoints`` (default: hips and shoulders) sit where the robot's
own body puts them: the robot's calibration offset from the parent keypoint, turned with the human's
pelvis (hips) or torso (shoulders, neck, head) frame; robots differ most in these fixed offsets.
Every other keypoint is scaled per bone: each keypoint is placed from its nearest mapped SMPL ancestor along the human
bone direction, with the robot's own bone length (measured at its calibration posture) times the
YAML multiplier of the bone's group (legs, spine, arms). The hip centre is placed at the human's hip
centre height above the clip's ground times the ratio of standing hip heights (robot / human), and
horizontally from the frame-0 pelvis, scaled by the same ratio; the robot's ground is z = 0; the pelvis
hangs on it with the robot's own pelvis-to-hips offset. The human's standing hip height comes from the
skeleton alone (``STANDING_PER_LEG`` times the median hip-knee-ankle bone length), never from the
poses, so crawling, rolling and getting up keep the same proportions as walking.

Feet: a foot in contact gets a sole target fixed for the whole contact (its mean planned position,
z = 0) and a flat orientation with the contact's mean heading; its ankle/toe keypoints are released.
Targets blend in and out of contact over ``blend_frames``. A free foot's target is lifted if any
sole corner would go below the ground. A foot's heading comes from ankle to toe, blended towards the
pelvis heading when the foot points steeply down (where that heading is meaningless). A planted foot's
heading is kept within the turn the robot's legs can make from the pelvis (``Calibration.foot_yaw_ranges``,
from the URDF's hip yaw limits): an out-of-reach heading at the contact weight tipped the robot over.

Arms raised forward (``raise_arms_forward`` in the YAML, for shoulders that abduct little): an arm raised
sideways is turned about the torso's vertical axis towards the front as it rises and its hand comes up to the
head, so the robot raises it by flexion, the only way such a shoulder gets a hand above the head.

Hands above the head (``hands_above_head``, on for every robot unless the YAML sets it to null): a wrist the
human holds above the head gets a target above the robot's head too (bone-by-bone scaling puts it below the
head of a robot with short arms and a high head), and its elbow and upper arm give way to it, from ``lead``
seconds before the lift (the clip is known ahead; an arm already raised the wrong way stays there). The keypoint
error of both is still measured against the human's own arm (``TaskTargets.reference_positions``).

Segment orientations: pelvis (hips and spine1), torso (shoulders and neck), feet, and the bend plane
of upper arms and thighs (``limb_frames``), each relative to the robot's own segment frame at its
calibration posture. ``clearance`` in the YAML pushes arm and leg keypoints out of the body.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from motiongpt.skeleton import FPS, JOINT_INDEX, PARENTS
from retargeting.contacts import Contacts
from retargeting.human_motion import frames_from_axes
from retargeting.robot_config import HandsAboveHead
from retargeting.robot_model import RobotModel

# Standing hip height above the ground per hip-knee-ankle bone length. A human stands with straight knees at 1.10
# (benchmarks/standing_height_ratio.py: the median over 169 clips of the frames where both knees are straighter
# than 172 degrees; Bandai Namco 1.10-1.12, DeepMimic 1.10); below that a standing robot's hips are high and its
# legs straighter than the human's. It was 1.02 until 2026-12-05 (hips 3.6-5.4% high, planted soles floating a few
# millimetres) because lower hips failed the MuJoCo check; those failures were the check's own (its kinematically
# driven base let sagging planted soles be pushed by the ground, jolting G1's waist roll 0.5 rad), and its ground
# is now drawn only. 253 clips, 1.02 -> 1.06: mean keypoint error G1 4.90 -> 3.42 cm, Talos 6.31 -> 4.57, Romeo
# 7.85 -> 6.60; MuJoCo check failures G1 40 -> 38, Talos 157 -> 155, Romeo 69 -> 72 (see retargeting/README.md).
# 1.10 fits better still (2.49, 3.58, 5.93 cm) but G1's swinging shin then meets the standing leg's capsule and the
# IK freezes that leg for frames (a DeepMimic walk 16 cm behind: test_walk_has_no_sticking_leg), and a walk's
# ankle is commanded at its limit, which the check's servo overshoots: not yet.
STANDING_PER_LEG = 1.06
# The torso's tilt over which a hand's lift above the head fades out: cos 45 degrees (none) to cos 25 (full).
UPRIGHT_FROM, UPRIGHT_TO = float(np.cos(np.radians(45.0))), float(np.cos(np.radians(25.0)))
# A level foot turned further than this from the pelvis heading is read, towards 180 degrees, as a foot pitched past
# the vertical (`_plant_foot`). 60 / 70 / 75 / 80 degrees were compared on 13 clips x 3 robots: 60 threw G1's
# cartwheel into another basin (43 -> 92 cm worst); 75 was then measured on 253 clips (retargeting/README.md).
FOOT_FACING_FROM = np.radians(75.0)

GROUP_OF_JOINT = {
    "pelvis": "root", "left_hip": "legs", "right_hip": "legs", "left_knee": "legs", "right_knee": "legs",
    "left_ankle": "legs", "right_ankle": "legs", "left_foot": "legs", "right_foot": "legs",
    "spine1": "spine", "spine2": "spine", "spine3": "spine", "neck": "spine", "head": "spine",
    "left_collar": "arms", "right_collar": "arms", "left_shoulder": "arms", "right_shoulder": "arms",
    "left_elbow": "arms", "right_elbow": "arms", "left_wrist": "arms", "right_wrist": "arms",
}


@dataclasses.dataclass
class TaskTargets:
    positions: np.ndarray  # (T,P,3): keypoints then the left and right sole centres
    position_weights: np.ndarray  # (T,P)
    rotations: np.ndarray  # (T,M,3,3) target rotations of the oriented robot frames
    rotation_weights: np.ndarray  # (T,M)
    contact_blend: np.ndarray  # (T,2) 1 in contact, ramping to 0 outside
    keypoint_scales: dict[str, float]
    root_scale: float
    pelvis_rotations: np.ndarray  # (T,3,3) canonical pelvis segment frames
    # (T,P,3) the keypoints as the human's own pose places them, what the tracking error is measured against:
    # ``positions`` except where the robot deliberately moves away from it (arms raised forward)
    reference_positions: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.reference_positions is None:
            self.reference_positions = self.positions

    @property
    def planted(self) -> np.ndarray:
        """(T,2) bool: the frames each foot is planted (its contact weight ramping in, held or ramping out)."""
        return self.contact_blend > 0


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def _ahead(values: np.ndarray, frames: int) -> np.ndarray:
    """(T,) -> each frame's maximum over itself and the next ``frames`` frames: a change starts as early as it
    will be needed within them."""
    if frames <= 0 or len(values) == 0:
        return values
    padded = np.concatenate([values, np.full(frames, values[-1])])
    return np.lib.stride_tricks.sliding_window_view(padded, frames + 1).max(axis=1)


def _upright_share(up_z: np.ndarray) -> np.ndarray:
    """1 for a segment whose up axis (its vertical component ``up_z``) tilts less than 25 degrees, 0 beyond 45."""
    return _smoothstep((up_z - UPRIGHT_FROM) / (UPRIGHT_TO - UPRIGHT_FROM))


def _wrap(angle):
    """Angles (radians) to (-pi, pi]."""
    return np.angle(np.exp(1j * angle))


def _near_level(elevation: np.ndarray) -> np.ndarray:
    """1 for a segment within 37 degrees of the horizontal, 0 beyond 60 (``elevation`` in radians)."""
    return np.clip((np.cos(elevation) - 0.5) / 0.3, 0.0, 1.0)


def _rot_z(angle: np.ndarray) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    out = np.zeros(angle.shape + (3, 3))
    out[..., 0, 0], out[..., 0, 1], out[..., 1, 0], out[..., 1, 1], out[..., 2, 2] = c, -s, s, c, 1.0
    return out


def _rot_y(angle: np.ndarray) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    out = np.zeros(angle.shape + (3, 3))
    out[..., 0, 0], out[..., 0, 2], out[..., 2, 0], out[..., 2, 2], out[..., 1, 1] = c, s, -s, c, 1.0
    return out


def limb_frames(shoulder: np.ndarray, elbow: np.ndarray, wrist: np.ndarray, torso: np.ndarray,
                bend_sign: float = 1.0) -> np.ndarray:
    """(T,3,3) frames of an upper limb segment (upper arm: shoulder-elbow-wrist; thigh: hip-knee-ankle):
    z from the middle joint to the root joint, x towards ``bend_sign`` times the lower segment's
    direction (the bend plane; -1 for a knee, which bends backwards), falling back to the body's forward
    axis (``torso`` x) as the limb straightens and the bend plane becomes undefined."""
    z = shoulder - elbow
    z /= np.maximum(np.linalg.norm(z, axis=-1, keepdims=True), 1e-9)
    forearm = wrist - elbow
    forearm /= np.maximum(np.linalg.norm(forearm, axis=-1, keepdims=True), 1e-9)
    perp = forearm - np.sum(forearm * z, axis=-1, keepdims=True) * z
    bend = np.linalg.norm(perp, axis=-1, keepdims=True)  # sin of the elbow bend
    weight = np.clip(2.0 * bend, 0.0, 1.0)
    hint = weight * bend_sign * perp / np.maximum(bend, 1e-9) + (1.0 - weight) * torso[..., :, 0]
    x = hint - np.sum(hint * z, axis=-1, keepdims=True) * z
    norm = np.linalg.norm(x, axis=-1, keepdims=True)
    x = np.where(norm > 1e-6, x / np.maximum(norm, 1e-9), torso[..., :, 1])  # arm along the torso's forward axis
    y = np.cross(z, x)
    return np.stack([x, y, z], axis=-1)


def _blend_weights(contacts: Contacts, frames: int, blend_frames: int) -> tuple[np.ndarray, np.ndarray]:
    """(T,2) blend in [0,1] and (T,2) index of the contact segment each frame blends towards (-1: none)."""
    alpha = np.zeros((frames, 2))
    segment_of = np.full((frames, 2), -1)
    for side in range(2):
        for index, (start, end) in enumerate(contacts.segments[side]):
            for t in range(max(0, start - blend_frames), min(frames, end + blend_frames + 1)):
                distance = start - t if t < start else (t - end if t > end else 0)
                value = 1.0 - distance / (blend_frames + 1)
                if value > alpha[t, side]:
                    alpha[t, side], segment_of[t, side] = value, index
    return alpha, segment_of


def build_targets(robot: RobotModel, joints: np.ndarray, contacts: Contacts, blend_frames: int = 3,
                  fps: float = FPS) -> TaskTargets:
    """Per-frame IK targets for (T, 22, 3) Z-up human joints: scaled keypoint positions, limbs kept clear of the
    body, segment orientations, feet planted during contacts, in that order."""
    config = robot.config
    smpl_ids = [JOINT_INDEX[k.smpl] for k in config.keypoints]
    slot_of_joint = {j: k for k, j in enumerate(smpl_ids)}
    J = JOINT_INDEX
    segment_rotations = {
        "pelvis": frames_from_axes(joints[:, J["left_hip"]] - joints[:, J["right_hip"]], joints[:, J["spine1"]] - joints[:, J["pelvis"]]),
        "torso": frames_from_axes(joints[:, J["left_shoulder"]] - joints[:, J["right_shoulder"]], joints[:, J["neck"]] - joints[:, J["spine3"]]),
    }
    # The arm rows as scaled bone by bone, kept when raise_arms_forward or the hands' lift moves the arm targets:
    # the keypoint error is measured against them (every other row against the targets).
    arms = [slot_of_joint[J[f"{side}_{part}"]] for side in ("left", "right") for part in ("elbow", "wrist")
            if J[f"{side}_{part}"] in slot_of_joint]
    human_arms = None
    human_joints = joints
    if config.raise_arms_forward is not None:
        unturned, _, _ = _scaled_positions(robot, joints, contacts.ground_height, slot_of_joint, segment_rotations)
        _keep_limbs_clear(config, unturned, slot_of_joint, segment_rotations)
        human_arms = unturned[:, arms]
        spec = config.raise_arms_forward
        joints = raise_arms_forward(joints, segment_rotations["torso"], spec.from_deg, spec.to_deg,
                                    round(spec.lead * fps))
    positions, keypoint_scales, root_scale = _scaled_positions(robot, joints, contacts.ground_height, slot_of_joint,
                                                               segment_rotations)
    _keep_limbs_clear(config, positions, slot_of_joint, segment_rotations)
    lifted = {}
    if config.hands_above_head is not None:
        unlifted = positions[:, arms] if human_arms is None else human_arms  # (fancy indexing: a copy)
        lifted = keep_hands_above_head(positions, human_joints, slot_of_joint, keypoint_scales, config.hands_above_head,
                                       segment_rotations["torso"][:, 2, 2], round(config.hands_above_head.lead * fps))
        if lifted:
            human_arms = unlifted
    calibration_segments = _limb_orientations(robot, joints, slot_of_joint, segment_rotations)
    alpha, segment_of = _blend_weights(contacts, len(joints), blend_frames)
    position_weights = np.tile(np.array([k.weight for k in config.keypoints] + [0.0, 0.0]), (len(joints), 1))
    for side in (0, 1):
        _plant_foot(robot, joints, contacts, side, alpha[:, side], segment_of[:, side], slot_of_joint,
                    positions, position_weights, segment_rotations)
    rotations, rotation_weights = _orientation_targets(robot, segment_rotations, calibration_segments, alpha)
    for side, share in lifted.items():  # a wrist lifted far leads its arm: the elbow and upper arm give way
        keep = 1.0 - config.hands_above_head.release * share
        if J[f"{side}_elbow"] in slot_of_joint:
            position_weights[:, slot_of_joint[J[f"{side}_elbow"]]] *= keep
        for m, spec in enumerate(config.orientations):
            if spec.segment == f"{side}_upper_arm":
                rotation_weights[:, m] *= keep
    reference = None
    if human_arms is not None:
        reference = positions.copy()
        reference[:, arms] = human_arms
    return TaskTargets(positions, position_weights, rotations, rotation_weights, alpha, keypoint_scales, root_scale,
                       segment_rotations["pelvis"], reference)


def keep_hands_above_head(positions: np.ndarray, joints: np.ndarray, slot_of_joint: dict[int, int],
                          keypoint_scales: dict[str, float], spec: HandsAboveHead,
                          torso_upright: np.ndarray | None = None, lead_frames: int = 0) -> dict[str, np.ndarray]:
    """Lift each wrist target, and its elbow's by ``spec.elbow_share`` of that, so that a hand the human holds
    above the head is above the robot's head target too, in place. Returns, per lifted side, the (T,) share in
    [0, 1] by which the caller releases the elbow and upper arm: the lift over ``band`` (a lift of a centimetre or
    two, a robot whose arms nearly reach, keeps nearly all of their weight; 0 where nothing is lifted).

    Robots' arms and heads are proportioned differently from a human's: a wrist 2 cm above a human's head,
    scaled bone by bone, lands 8 cm below Romeo's head target. With h the human wrist's height over the head
    (``joints``: the human's own Z-up joints) and w(h) a smoothstep from 0 at h = -band to 1 at h = 0, the
    robot wrist's height over its head target is raised to at least s * h + margin * smoothstep(h / margin) (s:
    the wrist's bone scale; below the head, s * h: a hand below the human's head stays below the robot's), and
    the lift is faded in by w: nothing moves while the hand is more than ``band`` below the head, and the target
    rises continuously as the hand comes up. ``torso_upright`` (T,): the vertical component of
    the human torso's up axis; "above the head" means something for an upright body only, so the lift fades out
    as the torso tilts from 25 to 45 degrees (a cartwheel, a roll, a crawl). The release starts ``lead_frames``
    before the lift (`_ahead`): released only as the wrist rises, the elbow and upper arm targets have already
    led the arm up the wrong way."""
    J = JOINT_INDEX
    if J["head"] not in slot_of_joint:
        return {}
    head = slot_of_joint[J["head"]]
    upright = np.ones(len(joints)) if torso_upright is None else _upright_share(np.asarray(torso_upright))
    lifted = {}
    for side in ("left", "right"):
        wrist, elbow = J[f"{side}_wrist"], J[f"{side}_elbow"]
        if wrist not in slot_of_joint:
            continue
        human = joints[:, wrist, 2] - joints[:, J["head"], 2]
        fade = _smoothstep((human + spec.band) / spec.band) * upright
        robot = positions[:, slot_of_joint[wrist], 2] - positions[:, head, 2]
        wanted = keypoint_scales.get(f"{side}_wrist", 1.0) * human + spec.margin * _smoothstep(human / spec.margin)
        lift = fade * np.maximum(wanted - robot, 0.0)
        if not np.any(lift > 0.0):
            continue
        lifted[side] = _ahead(np.clip(lift / spec.band, 0.0, 1.0), lead_frames)
        positions[:, slot_of_joint[wrist], 2] += lift
        if elbow in slot_of_joint:
            positions[:, slot_of_joint[elbow], 2] += spec.elbow_share * lift
    return lifted


def raise_arms_forward(joints: np.ndarray, torso: np.ndarray, from_deg: float, to_deg: float,
                       lead_frames: int = 0) -> np.ndarray:
    """(T, 22, 3) joints with each arm's elbow and wrist turned about the torso's vertical axis (through the
    shoulder) towards the front, by the fraction smoothstep((raise - from) / (to - from)) * smoothstep(hand) of
    the arm's sideways angle, where raise is the upper arm's angle from hanging straight down (degrees), hand the
    wrist's height above the shoulder over the head's (clipped to [0, 1]: 0 with the hand at or below the shoulder,
    1 from the head's height up) and the sideways angle is the upper arm's horizontal direction's angle from the
    front, in the torso frame ``torso`` (T, 3, 3: x forward, y left, z up). An arm in front or behind, hanging,
    or held out with the hand low, is unchanged; heights along the torso axis are kept. The fraction is each
    frame's largest over the next ``lead_frames`` (`_ahead`): the arm turns forward before it is raised."""
    J = JOINT_INDEX
    out = np.array(joints, dtype=np.float64, copy=True)
    up = torso[:, :, 2]
    for side, lateral_sign in (("left", 1.0), ("right", -1.0)):
        shoulder, elbow, wrist = (J[f"{side}_{part}"] for part in ("shoulder", "elbow", "wrist"))
        local = np.einsum("tji,tj->ti", torso, joints[:, elbow] - joints[:, shoulder])  # upper arm, torso frame
        length = np.maximum(np.linalg.norm(local, axis=-1), 1e-9)
        raised = np.degrees(np.arccos(np.clip(-local[:, 2] / length, -1.0, 1.0)))
        sideways = np.arctan2(lateral_sign * local[:, 1], local[:, 0])  # 0 in front, +90 degrees to the side
        ramp = _smoothstep((raised - from_deg) / (to_deg - from_deg))
        # ... and as the hand rises from the shoulder's height to the head's: an arm held out sideways with the hand
        # low (a swing, a punch, a dance) keeps its direction
        rise = np.sum((joints[:, wrist] - joints[:, shoulder]) * up, axis=-1)
        head = np.maximum(np.sum((joints[:, J["head"]] - joints[:, shoulder]) * up, axis=-1), 1e-3)
        ramp = _ahead(ramp * _smoothstep(rise / head), lead_frames)
        # turn towards the front: the left arm clockwise seen from above (negative about up), the right one back
        angle = -lateral_sign * np.clip(sideways, 0.0, np.pi) * ramp
        cos, sin = np.cos(angle)[:, None], np.sin(angle)[:, None]
        for joint in (elbow, wrist):
            v = joints[:, joint] - joints[:, shoulder]
            along = np.sum(v * up, axis=-1, keepdims=True) * up
            turned = along + (v - along) * cos + np.cross(up, v) * sin
            out[:, joint] = joints[:, shoulder] + turned
    return out


def _scaled_positions(robot: RobotModel, joints: np.ndarray, ground: float, slot_of_joint: dict[int, int],
                      segment_rotations: dict[str, np.ndarray]) -> tuple[np.ndarray, dict[str, float], float]:
    """Keypoint targets (T, K + 2, 3) (the last two rows: the soles, filled by `_plant_foot`): the hip centre
    scaled by standing heights, every other keypoint hung on its mapped parent by the bone scaled to the
    robot's bone length (rigid keypoints: the robot's own offset, turned with the human segment)."""
    config, calibration = robot.config, robot.calibration
    J = JOINT_INDEX
    smpl_ids = [J[k.smpl] for k in config.keypoints]

    def mapped_parent(joint: int) -> int:
        parent = PARENTS[joint]
        while parent not in slot_of_joint:
            parent = PARENTS[parent]
        return parent

    # Root: the hip centre is scaled by the ratio of standing hip heights (robot / human), the pelvis
    # hangs on it with the robot's own pelvis-to-hips offset (robots differ most there).
    robot_hips = 0.5 * (calibration.keypoint_positions[slot_of_joint[J["left_hip"]]] + calibration.keypoint_positions[slot_of_joint[J["right_hip"]]])
    robot_standing = robot_hips[2] - calibration.sole_points[:, :, 2].min()
    hip_centre = 0.5 * (joints[:, J["left_hip"]] + joints[:, J["right_hip"]])
    legs = [J[n] for n in ("left_hip", "left_knee", "left_ankle", "right_hip", "right_knee", "right_ankle")]
    leg = np.linalg.norm(joints[:, legs[0]] - joints[:, legs[1]], axis=-1) + np.linalg.norm(joints[:, legs[1]] - joints[:, legs[2]], axis=-1)
    # Body proportions come from the skeleton, never from poses: the bone lengths are constant over a clip
    # (their median ignores noisy frames), while the hip height of a crawl, a roll or a getup is not a
    # standing height at all (a hip-height-based scale put the robot upright 1 m above a human on all fours).
    human_standing = STANDING_PER_LEG * float(np.median(leg))
    root_scale = float(robot_standing / max(human_standing, 0.2)) * config.scales["root"]

    positions = np.zeros((len(joints), len(smpl_ids) + 2, 3))
    hips_target = np.empty((len(joints), 3))
    hips_target[:, :2] = root_scale * (hip_centre[:, :2] - joints[0, 0, :2])
    hips_target[:, 2] = root_scale * (hip_centre[:, 2] - ground)
    positions[:, 0] = hips_target - segment_rotations["pelvis"] @ (robot_hips - calibration.keypoint_positions[0])
    keypoint_scales = {config.keypoints[0].smpl: root_scale}
    for joint in sorted(smpl_ids):
        if joint == 0:
            continue
        slot, parent = slot_of_joint[joint], mapped_parent(joint)
        name = config.keypoints[slot].smpl
        if name in config.rigid_keypoints:
            # Fixed on the robot's pelvis or torso: the robot's own offset, turned with the human segment.
            segment = "pelvis" if GROUP_OF_JOINT[name] == "legs" else "torso"
            offset = calibration.keypoint_positions[slot] - calibration.keypoint_positions[slot_of_joint[parent]]
            positions[:, slot] = positions[:, slot_of_joint[parent]] + segment_rotations[segment] @ offset
            keypoint_scales[name] = 1.0
            continue
        bone = joints[:, joint] - joints[:, parent]
        human_length = float(np.median(np.linalg.norm(bone, axis=-1)))
        robot_length = float(np.linalg.norm(calibration.keypoint_positions[slot] - calibration.keypoint_positions[slot_of_joint[parent]]))
        scale = (robot_length / human_length if human_length > 1e-3 else 1.0) * config.scales[GROUP_OF_JOINT[name]]
        keypoint_scales[name] = scale
        positions[:, slot] = positions[:, slot_of_joint[parent]] + scale * bone
    return positions, keypoint_scales, root_scale


def _keep_limbs_clear(config, positions: np.ndarray, slot_of_joint: dict[int, int],
                      segment_rotations: dict[str, np.ndarray]) -> None:
    """Push the keypoints of ``config.clearance`` out sideways to at least their distance from the body centre
    line (legs: in the pelvis frame; arms: in the torso frame, only in front of its back and within
    ``clearance_depth``), in place."""
    J = JOINT_INDEX
    for name, distance in config.clearance.items():
        if J.get(name) not in slot_of_joint:
            continue
        slot = slot_of_joint[J[name]]
        side = 1.0 if name.startswith("left") else -1.0
        if GROUP_OF_JOINT[name] == "legs":
            frame, centre = segment_rotations["pelvis"], positions[:, 0]
        elif J["spine3"] in slot_of_joint:
            frame, centre = segment_rotations["torso"], positions[:, slot_of_joint[J["spine3"]]]
        else:
            continue
        local = np.einsum("tji,tj->ti", frame, positions[:, slot] - centre)
        inside = side * local[:, 1] < distance
        if GROUP_OF_JOINT[name] != "legs":
            inside &= (local[:, 2] < 0.0) & (np.abs(local[:, 0]) < config.clearance_depth)
        local[inside, 1] = side * distance
        positions[:, slot] = centre + np.einsum("tij,tj->ti", frame, local)


def _limb_orientations(robot: RobotModel, joints: np.ndarray, slot_of_joint: dict[int, int],
                       segment_rotations: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Adds the upper-arm and thigh frames of the human to ``segment_rotations``; returns the same frames of
    the robot at calibration (the orientation targets are taken relative to them)."""
    J = JOINT_INDEX
    robot_kp = {k.smpl: robot.calibration.keypoint_positions[i] for i, k in enumerate(robot.config.keypoints)}
    calibration_segments = {}
    limbs = {"upper_arm": (("shoulder", "elbow", "wrist"), "torso", 1.0), "thigh": (("hip", "knee", "ankle"), "pelvis", -1.0)}
    for side in ("left", "right"):
        for limb, (parts, body, sign) in limbs.items():
            names = tuple(f"{side}_{part}" for part in parts)
            if all(JOINT_INDEX[n] in slot_of_joint for n in names):
                segment_rotations[f"{side}_{limb}"] = limb_frames(
                    *(joints[:, J[n]] for n in names), segment_rotations[body], sign)
                calibration_segments[f"{side}_{limb}"] = limb_frames(
                    *(robot_kp[n][None] for n in names), np.eye(3)[None], sign)[0]
    return calibration_segments


def _plant_foot(robot: RobotModel, joints: np.ndarray, contacts: Contacts, side: int, alpha: np.ndarray,
                segment_of: np.ndarray, slot_of_joint: dict[int, int], positions: np.ndarray,
                position_weights: np.ndarray, segment_rotations: dict[str, np.ndarray]) -> None:
    """One foot (side 0: left, 1: right), in place: its orientation (heading from the ankle-to-toe vector,
    held at each contact's mean heading), its sole target (lifted above the ground, planted at each
    contact's mean position, blended in and out by ``alpha``) and the weights that hand the foot from the
    ankle and toe keypoints to the sole during contacts."""
    J = JOINT_INDEX
    calibration, settings = robot.calibration, robot.config.solver
    name = ("left", "right")[side]
    ankle, toe = J[f"{name}_ankle"], J[f"{name}_foot"]
    vector = joints[:, toe] - joints[:, ankle]
    horizontal = np.linalg.norm(vector[:, :2], axis=-1)
    pelvis_yaw = np.arctan2(segment_rotations["pelvis"][:, 1, 0], segment_rotations["pelvis"][:, 0, 0])
    heading_turn = _wrap(np.arctan2(vector[:, 1], vector[:, 0]) - pelvis_yaw)
    upright = _upright_share(segment_rotations["pelvis"][:, 2, 2])
    # A level foot pointing backwards from an upright pelvis is a foot pitched past the vertical (a runner's heel
    # kicked up behind, the sole facing back), not a leg turned around: read as a 180-degree turn, its heading
    # drove G1's hip yaw to its limit (-2.7 rad) mid-stride, 57 cm off on a dash. Its elevation is measured in the
    # pelvis's sagittal plane instead, beyond 90 degrees (continuous: `facing` goes from 1 to -1 as the foot
    # turns from FOOT_FACING_FROM to 180 - FOOT_FACING_FROM). A planted foot, a steep foot and the feet of a
    # pelvis lying down keep their elevation over the horizontal, as before.
    sagittal = (1.0 - alpha) * upright * _near_level(np.arctan2(vector[:, 2], horizontal))
    facing = 1.0 + sagittal * (np.clip(np.cos(heading_turn) / np.cos(FOOT_FACING_FROM), -1.0, 1.0) - 1.0)
    elevation = np.arctan2(vector[:, 2], horizontal * facing)
    # The heading of a steeply pitched foot (toe pointing down, or up past the vertical) is ill-defined: blend
    # towards the pelvis heading as the ankle-to-toe vector leaves the horizontal (fully beyond 60 degrees).
    # Blend on the circle (an angle, not a vector sum: two opposite headings would sum to nothing and
    # the yaw would flip by up to 180 degrees in one frame, whirling the hip yaw joint).
    turn = _near_level(elevation) * heading_turn
    # A planted foot is turned no further from the pelvis than the robot's leg can turn it (Romeo's hips yaw 15
    # degrees): its heading, held at the contact weight, was otherwise met by tipping the whole robot over (45
    # degrees, standing with the toes turned out). The bound comes in with the contact blend (a swinging foot's
    # heading weighs little) and fades out as the pelvis tilts from 25 to 45 degrees (headings about the
    # vertical mean little in a cartwheel).
    bounded = alpha * upright
    turn += bounded * (np.clip(turn, *calibration.foot_yaw_ranges[side]) - turn)
    yaw = np.unwrap(pelvis_yaw + turn)
    in_contact = contacts.in_contact[:, side]
    rest_elevation = float(np.median(elevation[in_contact])) if in_contact.any() else float(np.median(elevation))
    pitch = _wrap(rest_elevation - elevation)  # a rotation: +-pi are the same pitch
    # Contact headings: circular mean over each contact.
    # The yaw is unwrapped (continuous over the clip); each contact's mean heading is taken on the
    # branch nearest the contact's own yaw, so blending in and out of a contact never wraps around.
    contact_yaw = []
    for s, e in contacts.segments[side]:
        mean = float(np.arctan2(np.sin(yaw[s:e + 1]).mean(), np.cos(yaw[s:e + 1]).mean()))
        middle = float(yaw[(s + e) // 2])
        contact_yaw.append(middle + float(_wrap(mean - middle)))
    a = alpha
    target_yaw = yaw.copy()
    has = segment_of >= 0
    if has.any():
        fixed_yaw = np.array(contact_yaw)[segment_of[has]]
        delta = fixed_yaw - yaw[has]
        target_yaw[has] = yaw[has] + a[has] * delta
    rotation = _rot_z(target_yaw) @ _rot_y(pitch * (1.0 - a))
    segment_rotations[f"{name}_foot"] = rotation

    # Free sole centre from the planned ankle, then lift above ground, then plant during contacts.
    ankle_slot = slot_of_joint[ankle]
    ankle_cal = calibration.keypoint_positions[ankle_slot]
    sole_cal = calibration.sole_points[side]
    sole_center_cal = sole_cal.mean(axis=0)
    free_sole = positions[:, ankle_slot] + rotation @ (sole_center_cal - ankle_cal)
    corners = free_sole[:, None, :] + np.einsum("tij,cj->tci", rotation, sole_cal - sole_center_cal)
    lift = np.maximum(0.0, -corners[:, :, 2].min(axis=1))
    free_sole[:, 2] += lift
    positions[:, ankle_slot, 2] += lift
    if toe in slot_of_joint:
        positions[:, slot_of_joint[toe], 2] += lift
    sole_target = free_sole.copy()
    if has.any():
        planted = np.array([[*free_sole[s:e + 1, :2].mean(axis=0), 0.0] for s, e in contacts.segments[side]])
        sole_target[has] = (1 - a[has, None]) * free_sole[has] + a[has, None] * planted[segment_of[has]]
    slot = len(robot.config.keypoints) + side
    positions[:, slot] = sole_target
    position_weights[:, slot] = settings.contact_weight * a
    position_weights[:, ankle_slot] *= 1.0 - a
    if toe in slot_of_joint:
        position_weights[:, slot_of_joint[toe]] *= 1.0 - a


def _orientation_targets(robot: RobotModel, segment_rotations: dict[str, np.ndarray],
                         calibration_segments: dict[str, np.ndarray], alpha: np.ndarray
                         ) -> tuple[np.ndarray, np.ndarray]:
    """Rotation targets (T, M, 3, 3) and weights (T, M) of the config's orientation tasks: each segment's frame
    times the robot's calibration offset; foot weights rise to the contact weight during contacts."""
    config, settings = robot.config, robot.config.solver
    frames = len(alpha)
    rotations = np.zeros((frames, len(config.orientations), 3, 3))
    rotation_weights = np.zeros((frames, len(config.orientations)))
    for m, spec in enumerate(config.orientations):
        offset = robot.calibration.orientation_offsets[m]
        if spec.segment in calibration_segments:  # the robot's own segment frame at calibration
            offset = calibration_segments[spec.segment].T @ offset
        rotations[:, m] = segment_rotations[spec.segment] @ offset
        rotation_weights[:, m] = spec.weight
    for side, m in enumerate(robot.foot_orientation_slots):  # (left, right), as alpha's columns
        weight = config.orientations[m].weight
        rotation_weights[:, m] = weight + alpha[:, side] * (settings.contact_weight - weight)
    return rotations, rotation_weights
