"""Returns rules, pure and deterministic: the policy engine that decides a return line by line
(`policy`, over the inputs and outputs of `model`, with the window arithmetic in `windows`)
and the fraud risk score (`risk`). Services load the snapshot, call these, and persist."""
