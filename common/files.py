"""Files written whole or not at all: a write goes to a temporary name, is fsynced and renamed,
and the temporaries of writes whose process was killed are cleared."""

import glob
import os

TEMPORARY = ".tmp-"  # in the name of a file being written, until it is renamed


def write_atomic(path, write):
    """write(file) into a temporary file, fsync, then rename onto path (and fsync the folder,
    so the rename too survives a power cut): path is the old file or the whole new one."""
    tmp = f"{path}{TEMPORARY}{os.getpid()}"
    try:
        with open(tmp, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        folder = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def process_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temporaries(directory):
    """Delete the temporary files in `directory` of writes whose process was killed."""
    for path in glob.glob(os.path.join(directory, f"*{TEMPORARY}*")):
        pid = path.rsplit(TEMPORARY, 1)[1]
        if not (pid.isdigit() and process_alive(int(pid))):
            try:
                os.remove(path)
            except OSError:
                pass
