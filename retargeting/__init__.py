"""Robot side: retarget SMPL 22-joint human motion onto humanoid URDFs with Pinocchio. No ROS imports."""
