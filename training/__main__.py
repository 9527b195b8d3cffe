"""python -m training: see training/train.py."""
from training.train import main

main()
