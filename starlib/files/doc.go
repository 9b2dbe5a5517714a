// Package files defines pirun's `files` module: reading and writing the
// files of one folder, on engines and on the host.
//
// On an engine, [New] reads under the daemon's data_dir and writes under
// its out_dir, through an [os.Root] each: a path is relative to its
// folder, and `..`, absolute paths and symbolic links leading out are
// refused at every component, by openat-style resolution that a symlink
// swapped in meanwhile cannot fool. Only regular files are read or
// written: a device, a FIFO or a socket is refused after it was opened
// without blocking (and checked with fstat, not with the name). Writes
// are bounded by a byte quota (max_out_bytes) counted net: overwriting a
// file counts the difference, removing one gives its bytes back.
//
// On the host, [NewHost] resolves paths against a folder chosen per
// thread (the script's folder; the working directory in the REPL), and
// absolute paths and `..` are allowed: it is the user's own machine.
//
// Every write is atomic: the data goes to a temporary file in the same
// folder, which is synced and renamed over the target, so a reader sees
// the old file or the new one, never a part; a failed write leaves the
// old file. An append adds its text in one write and, if that fails,
// cuts the file back to its old size.
//
//	files.read(path)                      # string: the file's text
//	files.read_bytes(path)                # bytes: the file's content
//	files.lines(path)                     # list of strings, without line ends
//	files.glob(pattern)                   # sorted paths matching pattern (path.Match syntax)
//	files.exists(path)                    # bool
//	files.listdir(path=".")               # sorted names in a folder
//	files.read_array(path, delimiter=None, skiprows=0, usecols=None, dtype=None)
//	files.write(path, data)               # data: string or bytes; replaces the file
//	files.append(path, data)              # adds data at the end (creates the file)
//	files.write_array(path, a)            # a .npy file numpy.load reads (".npy" added if missing)
//	files.remove(path, missing_ok=False)  # a file, or an empty folder
//	files.makedirs(path, exist_ok=False)  # a folder and its parents
package files
