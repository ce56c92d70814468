"""A console window run in its own process, fed through a pipe."""

import threading

from groundstation.lib import multiproc


class Console:
    def __init__(self, title):
        self.title = title
        self.lock = threading.Lock()
        self.parent_pipe, self.child_pipe = multiproc.Pipe()
        self.child = multiproc.Process(target=self.ui_task)
        self.child.start()

    def ui_task(self):
        while True:
            text = self.child_pipe.recv()
            if text is None:
                break
            print(f"[{self.title}] {text}")

    def write(self, text):
        with self.lock:
            self.parent_pipe.send(text)

    def close(self):
        self.parent_pipe.send(None)
        self.child.join()
