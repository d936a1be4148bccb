"""Operations scripts outside the package: the prepared GPU check (`make gpu-check`, run as
`python -m tools.gpu_check`) and the memory measurement the torch tests use."""
