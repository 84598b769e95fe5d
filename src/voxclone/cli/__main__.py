import sys

from voxclone.cli import main

sys.exit(main())
