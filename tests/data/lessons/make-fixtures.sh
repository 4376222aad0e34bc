#!/bin/sh
# Makes the PyTorch side of tests/test-lessons.c: each lesson's program, exactly as
# GradLens shows it (gradlens-cli lesson NAME --source), run by PyTorch 1.13 +
# torchvision at /usr/bin/python3. NAME.py is the program, NAME.out what it printed.
#
#   tests/data/lessons/make-fixtures.sh build/app/gradlens-cli
#
# The parameters here are the ones test-lessons.c uses for each fixture.
set -eu
cli=$(realpath "${1:-build/app/gradlens-cli}")
python=/usr/bin/python3
cd "$(dirname "$0")"

make_fixture () {
  name=$1
  shift
  "$cli" lesson "$name" "$@" --source > "$name.py"
  OMP_NUM_THREADS=1 "$python" "$name.py" > "$name.out"
  echo "$name.py $name.out"
}

make_fixture autograd
make_fixture requires-grad --seed 7
make_fixture resnet18-step --seed 0 --steps 2
make_fixture finetune --seed 1 --steps 2 --lr 0.001
make_fixture freeze --seed 0 --steps 2 --no-zero-grad --freeze layer1 --freeze layer2.0 --freeze fc.bias
