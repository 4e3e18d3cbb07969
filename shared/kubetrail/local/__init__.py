"""`kubetrail local invoke {aws|azure|gcp} FILE`: deliver files to the real cloud function against
local emulators, the way the platform would, and print the findings that reached the emulated
alerting service. One module per cloud, each exposing

    invoke(files: list[pathlib.Path], out: TextIO, err: TextIO) -> int   (exit status)

and importing its SDKs and function code only when called."""
