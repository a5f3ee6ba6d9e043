"""Motion datasets: the HumanML3D-layout loader and the embedded DeepMimic mocap dataset."""
