/*
 * sluice_native: the few syscalls the worker's flushers need that Node does not expose
 * (docs/architecture.md#worker, "Flushers"): aligned memory for O_DIRECT, fallocate, posix_fadvise and
 * sync_file_range; and the ESS's read that never waits for the disk (preadv2 RWF_NOWAIT). Loaded by src/common/native.ts, which falls back to pure JS when this
 * addon is missing; nothing here is needed for correctness, only for speed. Also CRC-32
 * through Intel ISA-L when the system has it (crc32 below).
 *
 * Every call but commitFiles (a batch of whole files at commit, on the thread pool) is a
 * synchronous syscall on the JS thread. That is deliberate: fallocate,
 * posix_fadvise and sync_file_range(SYNC_FILE_RANGE_WRITE) only queue work in the kernel and
 * return in microseconds, so a libuv thread-pool hop would cost more than the call. The one
 * exception is sync_file_range with SYNC_FILE_RANGE_WAIT_BEFORE or _WAIT_AFTER, which waits
 * for the disk and blocks the event loop: callers use SYNC_FILE_RANGE_WRITE alone.
 *
 * Errors are thrown the way Node's fs throws them: an Error whose `code` is the errno name
 * ('EBADF', 'EOPNOTSUPP'), `errno` the negated errno (libuv's convention) and `syscall` the
 * call's name, so callers match on `code` and never on message text.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <node_api.h>

/* The largest alignment accepted: far above any device's logical block size (512 B to
 * 4 KiB) or huge page (2 MiB), and small enough that rounding a size up cannot overflow. */
#define MAX_ALIGNMENT ((size_t)1 << 30)
#define MIN_ALIGNMENT ((size_t)512)
#define DEFAULT_ALIGNMENT ((size_t)4096)
/* Offsets and lengths arrive as JS numbers; above 2^53 they are no longer exact integers. */
#define MAX_SAFE_INTEGER 9007199254740991.0

#define CHECK(env, call)                                                                    \
  do {                                                                                      \
    if ((call) != napi_ok) {                                                                \
      throw_last_napi_error(env);                                                           \
      return NULL;                                                                          \
    }                                                                                       \
  } while (0)

static void throw_last_napi_error(napi_env env) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) return;
  const napi_extended_error_info *info = NULL;
  napi_get_last_error_info(env, &info);
  const char *msg = info != NULL && info->error_message != NULL ? info->error_message
                                                                : "N-API call failed";
  napi_throw_error(env, "ERR_SLUICE_NATIVE", msg);
}

/* Names for the errnos these four syscalls document, so `code` is stable on every libc.
 * glibc >= 2.32 names any other errno; elsewhere an unlisted one becomes "EUNKNOWN". */
static const char *errno_name(int err) {
  switch (err) {
    case EBADF: return "EBADF";
    case EFBIG: return "EFBIG";
    case EINTR: return "EINTR";
    case EINVAL: return "EINVAL";
    case EIO: return "EIO";
    case ENODEV: return "ENODEV";
    case ENOSPC: return "ENOSPC";
    case ENOSYS: return "ENOSYS";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case EPERM: return "EPERM";
    case ESPIPE: return "ESPIPE";
    case ETXTBSY: return "ETXTBSY";
    case ENOMEM: return "ENOMEM";
    case EROFS: return "EROFS";
    case EACCES: return "EACCES";
    case EAGAIN: return "EAGAIN";
    case EISDIR: return "EISDIR";
    case EDQUOT: return "EDQUOT";
    default: break;
  }
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
  const char *name = strerrorname_np(err);
  if (name != NULL) return name;
#endif
  return "EUNKNOWN";
}

/* Error("<CODE>: <strerror>, <syscall>[ '<path>']") with code, errno, syscall (and path)
 * properties, as Node's fs makes them; NULL when N-API failed. */
static napi_value errno_error(napi_env env, int err, const char *syscall, const char *path) {
  const char *code = errno_name(err);
  char message[4352];
  if (path != NULL)
    snprintf(message, sizeof message, "%s: %s, %s '%s'", code, strerror(err), syscall, path);
  else
    snprintf(message, sizeof message, "%s: %s, %s", code, strerror(err), syscall);

  napi_value code_value, message_value, error, errno_value, syscall_value, path_value;
  if (napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &code_value) != napi_ok ||
      napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &message_value) != napi_ok ||
      napi_create_error(env, code_value, message_value, &error) != napi_ok ||
      napi_create_int32(env, -err, &errno_value) != napi_ok ||
      napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &syscall_value) != napi_ok ||
      napi_set_named_property(env, error, "errno", errno_value) != napi_ok ||
      napi_set_named_property(env, error, "syscall", syscall_value) != napi_ok)
    return NULL;
  if (path != NULL &&
      (napi_create_string_utf8(env, path, NAPI_AUTO_LENGTH, &path_value) != napi_ok ||
       napi_set_named_property(env, error, "path", path_value) != napi_ok))
    return NULL;
  return error;
}

/* Throws Error("<CODE>: <strerror>, <syscall>") with code, errno and syscall properties. */
static void throw_errno(napi_env env, int err, const char *syscall) {
  napi_value error = errno_error(env, err, syscall, NULL);
  if (error == NULL) throw_last_napi_error(env);
  else napi_throw(env, error);
}

static void throw_range(napi_env env, const char *message) {
  napi_throw_range_error(env, "ERR_OUT_OF_RANGE", message);
}

/* Reads a JS number that must be an integer in [0, max]; throws and returns false if not. */
static bool get_uint(napi_env env, napi_value value, double max, const char *name,
                     int64_t *out) {
  napi_valuetype type;
  double d;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_number ||
      napi_get_value_double(env, value, &d) != napi_ok || !isfinite(d) || d != floor(d) ||
      d < 0 || d > max) {
    char message[128];
    snprintf(message, sizeof message, "%s must be an integer in [0, %.0f]", name, max);
    throw_range(env, message);
    return false;
  }
  *out = (int64_t)d;
  return true;
}

static bool get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) {
    throw_last_napi_error(env);
    return false;
  }
  if (argc < want) {
    napi_throw_type_error(env, "ERR_MISSING_ARGS", "too few arguments");
    return false;
  }
  return true;
}

static void free_aligned(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  free(data);
}

/*
 * alignedBuffer(size, alignment = 4096) -> ArrayBuffer
 * An external ArrayBuffer whose data pointer is a multiple of `alignment` and whose length
 * is `size` rounded up to a multiple of it (O_DIRECT needs aligned lengths too), zero-filled
 * so no stale heap bytes can reach a file.
 *
 * The memory comes back only after a GC found the buffer dead AND the event loop turned:
 * Node runs N-API finalizers from a later tick. Measured: a synchronous loop allocating
 * 400 x 64 MiB was OOM-killed; the same loop yielding once per buffer stayed under 400 MiB RSS.
 * So callers pool these buffers (docs/architecture.md#worker) rather than allocating per write.
 */
static napi_value aligned_buffer(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1) {
    napi_throw_type_error(env, "ERR_MISSING_ARGS", "size is required");
    return NULL;
  }
  int64_t size, alignment = (int64_t)DEFAULT_ALIGNMENT;
  if (!get_uint(env, argv[0], MAX_SAFE_INTEGER, "size", &size)) return NULL;
  if (argc >= 2) {
    napi_valuetype type;
    CHECK(env, napi_typeof(env, argv[1], &type));
    if (type != napi_undefined &&
        !get_uint(env, argv[1], (double)MAX_ALIGNMENT, "alignment", &alignment))
      return NULL;
  }
  if (alignment < (int64_t)MIN_ALIGNMENT || (alignment & (alignment - 1)) != 0) {
    throw_range(env, "alignment must be a power of two in [512, 2^30]");
    return NULL;
  }

  if ((uint64_t)size > (uint64_t)SIZE_MAX - (uint64_t)alignment) {
    throw_errno(env, ENOMEM, "posix_memalign");
    return NULL;
  }
  size_t length = ((size_t)size + (size_t)alignment - 1) & ~((size_t)alignment - 1);
  /* posix_memalign(0) may return NULL; one block keeps a zero-length buffer a real pointer. */
  size_t alloc = length > 0 ? length : (size_t)alignment;
  void *data = NULL;
  int err = posix_memalign(&data, (size_t)alignment, alloc);
  if (err != 0) {
    throw_errno(env, err, "posix_memalign");
    return NULL;
  }
  memset(data, 0, alloc);

  napi_value result;
  if (napi_create_external_arraybuffer(env, data, length, free_aligned, NULL, &result) !=
      napi_ok) {
    free(data);
    throw_last_napi_error(env);
    return NULL;
  }
  return result;
}

/*
 * fallocate(fd, offset, length, keepSize = false) -> undefined
 * fallocate(2), not posix_fallocate(3): where the filesystem cannot preallocate, glibc's
 * posix_fallocate writes zeros through the page cache, which costs a full extra write of
 * the file. Preallocation is only an optimisation, so EOPNOTSUPP is the answer we want.
 * keepSize (FALLOC_FL_KEEP_SIZE) reserves blocks without moving the end of file.
 */
static napi_value fallocate_fn(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 3) {
    napi_throw_type_error(env, "ERR_MISSING_ARGS", "fd, offset and length are required");
    return NULL;
  }
  int64_t fd, offset, length;
  if (!get_uint(env, argv[0], (double)INT32_MAX, "fd", &fd) ||
      !get_uint(env, argv[1], MAX_SAFE_INTEGER, "offset", &offset) ||
      !get_uint(env, argv[2], MAX_SAFE_INTEGER, "length", &length))
    return NULL;
  bool keep_size = false;
  if (argc >= 4) {
    napi_valuetype type;
    CHECK(env, napi_typeof(env, argv[3], &type));
    if (type != napi_undefined) CHECK(env, napi_get_value_bool(env, argv[3], &keep_size));
  }
#ifdef __linux__
  int mode = keep_size ? FALLOC_FL_KEEP_SIZE : 0;
  int rc;
  do rc = fallocate((int)fd, mode, (off_t)offset, (off_t)length);
  while (rc != 0 && errno == EINTR);
  if (rc != 0) throw_errno(env, errno, "fallocate");
#else
  (void)keep_size;
  throw_errno(env, EOPNOTSUPP, "fallocate");
#endif
  return NULL;
}

/*
 * fadvise(fd, offset, length, advice) -> undefined; length 0 means "to end of file".
 * posix_fadvise returns the error number instead of setting errno.
 */
static napi_value fadvise_fn(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  if (!get_args(env, info, 4, argv)) return NULL;
  int64_t fd, offset, length, advice;
  if (!get_uint(env, argv[0], (double)INT32_MAX, "fd", &fd) ||
      !get_uint(env, argv[1], MAX_SAFE_INTEGER, "offset", &offset) ||
      !get_uint(env, argv[2], MAX_SAFE_INTEGER, "length", &length) ||
      !get_uint(env, argv[3], 255, "advice", &advice))
    return NULL;
#ifdef POSIX_FADV_NORMAL
  int err = posix_fadvise((int)fd, (off_t)offset, (off_t)length, (int)advice);
  if (err != 0) throw_errno(env, err, "posix_fadvise");
#endif
  return NULL;
}

/*
 * syncFileRange(fd, offset, nbytes, flags) -> undefined; nbytes 0 means "to end of file".
 * With SYNC_FILE_RANGE_WRITE alone it starts writeback of the range and returns: the
 * flusher uses it to keep dirty pages from piling up before the commit's fsync. It gives
 * no durability guarantee (no metadata, no disk cache flush); fsync still decides that.
 */
static napi_value sync_file_range_fn(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  if (!get_args(env, info, 4, argv)) return NULL;
  int64_t fd, offset, nbytes, flags;
  if (!get_uint(env, argv[0], (double)INT32_MAX, "fd", &fd) ||
      !get_uint(env, argv[1], MAX_SAFE_INTEGER, "offset", &offset) ||
      !get_uint(env, argv[2], MAX_SAFE_INTEGER, "nbytes", &nbytes) ||
      !get_uint(env, argv[3], 7, "flags", &flags))
    return NULL;
#ifdef __linux__
  int rc;
  do rc = sync_file_range((int)fd, (off_t)offset, (off_t)nbytes, (unsigned int)flags);
  while (rc != 0 && errno == EINTR);
  if (rc != 0) throw_errno(env, errno, "sync_file_range");
#else
  throw_errno(env, ENOSYS, "sync_file_range");
#endif
  return NULL;
}

/*
 * preadCached(fd, buffer, offset, length, position) -> bytes read, or -1 when the bytes are
 * not all in the page cache yet (the read would wait for the disk), or -2 when this kernel
 * or filesystem cannot tell (no RWF_NOWAIT): the caller then reads through libuv's pool. The
 * ESS serves most fetches from the page cache (readahead of neighbouring regions), and a
 * pool hop costs about as much CPU as the rest of a fetch (bench/README.md, "ESS fetches"),
 * so it tries this first: preadv2(RWF_NOWAIT) never blocks on the disk. It may return fewer
 * bytes than asked (part of the range cached); the caller reads the rest through the pool.
 */
static napi_value pread_cached(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  if (!get_args(env, info, 5, argv)) return NULL;
  void *data;
  size_t size;
  bool is;
  CHECK(env, napi_is_buffer(env, argv[1], &is));
  if (!is) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "buffer must be a Buffer");
    return NULL;
  }
  CHECK(env, napi_get_buffer_info(env, argv[1], &data, &size));
  int64_t fd, offset, length, position;
  if (!get_uint(env, argv[0], (double)INT32_MAX, "fd", &fd) ||
      !get_uint(env, argv[2], (double)size, "offset", &offset) ||
      !get_uint(env, argv[3], (double)(size - (size_t)offset), "length", &length) ||
      !get_uint(env, argv[4], MAX_SAFE_INTEGER, "position", &position))
    return NULL;
  double result = -2;
#if defined(__linux__) && defined(RWF_NOWAIT)
  struct iovec iov = {(char *)data + offset, (size_t)length};
  ssize_t n;
  do n = preadv2((int)fd, &iov, 1, (off_t)position, RWF_NOWAIT);
  while (n < 0 && errno == EINTR);
  if (n >= 0) result = (double)n;
  else if (errno == EAGAIN) result = -1;
  else if (errno != EOPNOTSUPP && errno != ENOSYS && errno != EINVAL) {
    throw_errno(env, errno, "preadv2");
    return NULL;
  }
#endif
  napi_value out;
  CHECK(env, napi_create_double(env, result, &out));
  return out;
}

/*
 * crc32(bytes, previous) -> uint32: CRC-32 (zlib's polynomial and conventions, so
 * crc32(b, crc32(a, 0)) is the CRC of a||b) through Intel ISA-L's crc32_gzip_refl, which folds
 * with PCLMULQDQ/VPCLMULQDQ: ~0.02 CPU-s/GB here against ~0.2 for zlib.crc32. ISA-L is opened
 * at load with dlopen, so the addon builds and loads without it; `crc32` is exported only when
 * libisal.so.2 was found (Debian: libisal2), and JS keeps zlib.crc32 otherwise.
 */
typedef unsigned int (*isal_crc32_fn)(unsigned int, const unsigned char *, unsigned long long);
static isal_crc32_fn isal_crc32 = NULL;

static napi_value crc32_js(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!get_args(env, info, 2, argv)) return NULL;
  bool is;
  CHECK(env, napi_is_typedarray(env, argv[0], &is));
  napi_typedarray_type type = napi_int8_array;
  size_t length = 0, offset;
  void *data = NULL;
  napi_value ab;
  if (is) CHECK(env, napi_get_typedarray_info(env, argv[0], &type, &length, &data, &ab, &offset));
  if (!is || type != napi_uint8_array) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "expected a Buffer or Uint8Array");
    return NULL;
  }
  uint32_t previous;
  CHECK(env, napi_get_value_uint32(env, argv[1], &previous));
  /* A zero-length view may carry a NULL data pointer; ISA-L returns `previous` for it. */
  uint32_t crc = length == 0 ? previous : isal_crc32(previous, data, length);
  napi_value out;
  CHECK(env, napi_create_uint32(env, crc, &out));
  return out;
}

static void load_isal(void) {
  void *lib = dlopen("libisal.so.2", RTLD_NOW | RTLD_LOCAL);
  if (lib == NULL) return;
  /* Kept open for the life of the process: the function pointer lives in it. */
  isal_crc32 = (isal_crc32_fn)dlsym(lib, "crc32_gzip_refl");
}

/*
 * addressOf(arrayBufferOrView) -> bigint: the address of the first byte the argument
 * covers. Only tests use it, to check alignment; nothing should ever dereference it.
 */
static napi_value address_of(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!get_args(env, info, 1, argv)) return NULL;
  void *data = NULL;
  bool is;
  CHECK(env, napi_is_arraybuffer(env, argv[0], &is));
  if (is) {
    size_t length;
    CHECK(env, napi_get_arraybuffer_info(env, argv[0], &data, &length));
  } else {
    CHECK(env, napi_is_typedarray(env, argv[0], &is));
    if (is) {
      napi_typedarray_type type;
      size_t length, offset;
      napi_value ab;
      CHECK(env, napi_get_typedarray_info(env, argv[0], &type, &length, &data, &ab, &offset));
    } else {
      CHECK(env, napi_is_dataview(env, argv[0], &is));
      if (!is) {
        napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE",
                              "expected an ArrayBuffer, TypedArray or DataView");
        return NULL;
      }
      size_t length, offset;
      napi_value ab;
      CHECK(env, napi_get_dataview_info(env, argv[0], &length, &data, &ab, &offset));
    }
  }
  napi_value result;
  CHECK(env, napi_create_bigint_uint64(env, (uint64_t)(uintptr_t)data, &result));
  return result;
}

/*
 * commitFiles(files, direct, sync) -> Promise<{ errors, directRefused }>
 * files: [{ data: path, index: path, bytes: Buffer, indexBytes: Buffer }, ...]
 *
 * Writes whole partition files at commit, each a data file then its index, every file of the
 * batch in ONE thread-pool task: a small partition's commit was seven fs/promises calls
 * (open, write, truncate, close; open, write, close), each a pool hop costing the event loop
 * more CPU than the syscall (bench/README.md, "The commit, file by file"). Per file, in this
 * order:
 *
 *   data:  open(O_CREAT | O_TRUNC [| O_DIRECT]) - pwrite - [ftruncate] - [fsync] - close
 *   index: open(O_CREAT | O_TRUNC) - pwrite - [fsync] - close
 *
 * A file's data is a Buffer or an array of Buffers (the staging pieces it sits in), written
 * from where they are: the batch holds a reference to `files` until it settles, and the
 * caller must leave those buffers unchanged until then. Copying them here, on the calling
 * thread, was the worker's largest cost at the commit of 1000 partitions (with the join of
 * each file's pieces before it). The index bytes, small, are copied into one arena. For
 * O_DIRECT the thread gathers each data file into an aligned scratch buffer zero-padded to a
 * whole block, and truncates the file back to its length. (An arena of aligned, padded files
 * was 8 KiB a small file: allocated with mmap and faulted in page by page, it cost ~20 us a
 * file on the calling thread.) With `direct`, a
 * filesystem refusing O_DIRECT (EINVAL: tmpfs) makes the rest of the batch buffered and the
 * result says so. A file whose data failed gets no index. `errors[i]` is null, or the
 * failure as Node's fs reports one (code, errno, syscall, path); a partly written file is
 * left for the caller to remove.
 */
#define COMMIT_BLOCK ((size_t)4096)

typedef struct {
  const char *ptr;
  size_t len;
} commit_seg;

typedef struct {
  char *data_path;
  char *index_path;
  /* The caller's data buffers, kept alive by the batch's reference to `files`. */
  commit_seg *segs;
  uint32_t nsegs;
  /* The caller's index bytes, valid only during the call that copies them into the arena. */
  const void *index_src;
  size_t data_len, index_at, index_len;
  int err;
  const char *syscall;
  const char *failed_path;
} commit_file;

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  napi_ref keep; /* `files`, whose data buffers the thread reads */
  commit_file *files;
  size_t count;
  char *arena;
  size_t largest; /* the largest data file: the O_DIRECT scratch buffer's size */
  bool direct, sync, direct_refused;
} commit_batch;

static void free_commit_batch(commit_batch *b) {
  if (b->files != NULL)
    for (size_t i = 0; i < b->count; i++) {
      free(b->files[i].data_path);
      free(b->files[i].index_path);
      free(b->files[i].segs);
    }
  free(b->files);
  free(b->arena);
  free(b);
}

static size_t block_up(size_t n) { return (n + COMMIT_BLOCK - 1) & ~(COMMIT_BLOCK - 1); }

/* A property of `obj` that must be a string: a malloc'ed copy, or NULL after throwing. */
static char *get_path(napi_env env, napi_value obj, const char *name) {
  napi_value v;
  size_t len;
  if (napi_get_named_property(env, obj, name, &v) != napi_ok ||
      napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) {
    char message[64];
    snprintf(message, sizeof message, "file.%s must be a string", name);
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", message);
    return NULL;
  }
  char *s = malloc(len + 1);
  if (s == NULL) {
    throw_errno(env, ENOMEM, "malloc");
    return NULL;
  }
  napi_get_value_string_utf8(env, v, s, len + 1, &len);
  return s;
}

/* A property of `obj` that must be a Buffer; false after throwing. */
static bool get_bytes(napi_env env, napi_value obj, const char *name, void **data, size_t *len) {
  napi_value v;
  bool is = false;
  if (napi_get_named_property(env, obj, name, &v) != napi_ok ||
      napi_is_buffer(env, v, &is) != napi_ok || !is ||
      napi_get_buffer_info(env, v, data, len) != napi_ok) {
    char message[64];
    snprintf(message, sizeof message, "file.%s must be a Buffer", name);
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", message);
    return false;
  }
  return true;
}

/* file.bytes: a Buffer, or an array of Buffers written one after the other; false after
 * throwing. */
static bool get_data(napi_env env, napi_value obj, commit_file *f) {
  napi_value v, item;
  bool is_buffer = false, is_array = false;
  uint32_t n = 1;
  if (napi_get_named_property(env, obj, "bytes", &v) != napi_ok ||
      napi_is_buffer(env, v, &is_buffer) != napi_ok ||
      (!is_buffer && napi_is_array(env, v, &is_array) != napi_ok) ||
      (is_array && napi_get_array_length(env, v, &n) != napi_ok) || (!is_buffer && !is_array)) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE",
                          "file.bytes must be a Buffer or an array of Buffers");
    return false;
  }
  if ((f->segs = calloc(n > 0 ? n : 1, sizeof *f->segs)) == NULL) {
    throw_errno(env, ENOMEM, "calloc");
    return false;
  }
  f->nsegs = n;
  f->data_len = 0;
  for (uint32_t k = 0; k < n; k++) {
    void *ptr;
    size_t len;
    bool is = is_buffer;
    item = v;
    if (is_array && (napi_get_element(env, v, k, &item) != napi_ok ||
                     napi_is_buffer(env, item, &is) != napi_ok))
      is = false;
    if (!is || napi_get_buffer_info(env, item, &ptr, &len) != napi_ok) {
      napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE",
                            "file.bytes must be a Buffer or an array of Buffers");
      return false;
    }
    f->segs[k].ptr = ptr;
    f->segs[k].len = len;
    f->data_len += len;
  }
  return true;
}

static int write_all(int fd, const char *buf, size_t len, size_t at) {
  for (size_t done = 0; done < len;) {
    ssize_t n = pwrite(fd, buf + done, len - done, (off_t)(at + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    if (n == 0) return EIO;
    done += (size_t)n;
  }
  return 0;
}

/* Writes one file, the `nsegs` segments one after the other (`len` bytes in all): 0, or an
 * errno with f->syscall set. O_DIRECT only with *direct, through `scratch` (aligned, at least
 * len rounded up to a block). */
static int write_whole(const char *path, const commit_seg *segs, uint32_t nsegs, size_t len,
                       char *scratch, bool *direct, bool *refused, bool sync, commit_file *f) {
  int flags = O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC;
  int fd;
  f->failed_path = path;
  do fd = open(path, flags | (*direct ? O_DIRECT : 0), 0644);
  while (fd < 0 && errno == EINTR);
  if (fd < 0 && errno == EINVAL && *direct) {
    *direct = false;
    *refused = true;
    do fd = open(path, flags, 0644);
    while (fd < 0 && errno == EINTR);
  }
  if (fd < 0) {
    f->syscall = "open";
    return errno;
  }
  size_t padded = len;
  int err = 0;
  if (*direct) {
    padded = block_up(len);
    size_t at = 0;
    for (uint32_t k = 0; k < nsegs; k++) {
      memcpy(scratch + at, segs[k].ptr, segs[k].len);
      at += segs[k].len;
    }
    memset(scratch + len, 0, padded - len);
    err = write_all(fd, scratch, padded, 0);
  } else {
    size_t at = 0;
    for (uint32_t k = 0; err == 0 && k < nsegs; k++) {
      err = write_all(fd, segs[k].ptr, segs[k].len, at);
      at += segs[k].len;
    }
  }
  f->syscall = "write";
  if (err == 0 && padded != len) {
    f->syscall = "ftruncate";
    while (ftruncate(fd, (off_t)len) != 0)
      if (errno != EINTR) {
        err = errno;
        break;
      }
  }
  if (err == 0 && sync) {
    f->syscall = "fsync";
    if (fsync(fd) != 0) err = errno;
  }
  /* close(2) may report a deferred write error (NFS, quota): it counts. Never retried. */
  if (close(fd) != 0 && err == 0 && errno != EINTR) {
    f->syscall = "close";
    err = errno;
  }
  return err;
}

static void commit_files_execute(napi_env env, void *data) {
  (void)env;
  commit_batch *b = data;
  char *scratch = NULL;
  if (b->direct &&
      posix_memalign((void **)&scratch, COMMIT_BLOCK, block_up(b->largest + 1)) != 0) {
    for (size_t i = 0; i < b->count; i++) {
      b->files[i].err = ENOMEM;
      b->files[i].syscall = "posix_memalign";
      b->files[i].failed_path = b->files[i].data_path;
    }
    return;
  }
  for (size_t i = 0; i < b->count; i++) {
    commit_file *f = &b->files[i];
    bool buffered = false;
    f->err = write_whole(f->data_path, f->segs, f->nsegs, f->data_len, scratch, &b->direct,
                         &b->direct_refused, b->sync, f);
    commit_seg index = {b->arena + f->index_at, f->index_len};
    if (f->err == 0)
      f->err = write_whole(f->index_path, &index, 1, f->index_len, NULL, &buffered, &buffered,
                           b->sync, f);
  }
  free(scratch);
}

static void commit_files_complete(napi_env env, napi_status status, void *data) {
  commit_batch *b = data;
  napi_value result, errors, refused, value;
  bool ok = napi_create_object(env, &result) == napi_ok &&
            napi_create_array_with_length(env, b->count, &errors) == napi_ok;
  for (size_t i = 0; ok && i < b->count; i++) {
    commit_file *f = &b->files[i];
    if (status != napi_ok) value = errno_error(env, ECANCELED, "commitFiles", f->data_path);
    else if (f->err != 0) value = errno_error(env, f->err, f->syscall, f->failed_path);
    else ok = napi_get_null(env, &value) == napi_ok;
    ok = ok && value != NULL && napi_set_element(env, errors, (uint32_t)i, value) == napi_ok;
  }
  ok = ok && napi_set_named_property(env, result, "errors", errors) == napi_ok &&
       napi_get_boolean(env, b->direct_refused, &refused) == napi_ok &&
       napi_set_named_property(env, result, "directRefused", refused) == napi_ok;
  if (ok) napi_resolve_deferred(env, b->deferred, result);
  else {
    napi_value err;
    napi_create_string_utf8(env, "commitFiles: cannot build its result", NAPI_AUTO_LENGTH,
                            &value);
    napi_create_error(env, NULL, value, &err);
    napi_reject_deferred(env, b->deferred, err);
  }
  napi_delete_async_work(env, b->work);
  napi_delete_reference(env, b->keep);
  free_commit_batch(b);
}

static napi_value commit_files(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  if (!get_args(env, info, 3, argv)) return NULL;
  bool is_array = false;
  uint32_t count = 0;
  CHECK(env, napi_is_array(env, argv[0], &is_array));
  if (!is_array) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "files must be an array");
    return NULL;
  }
  CHECK(env, napi_get_array_length(env, argv[0], &count));
  commit_batch *b = calloc(1, sizeof *b);
  if (b == NULL || (count > 0 && (b->files = calloc(count, sizeof *b->files)) == NULL)) {
    free(b);
    throw_errno(env, ENOMEM, "calloc");
    return NULL;
  }
  if (napi_get_value_bool(env, argv[1], &b->direct) != napi_ok ||
      napi_get_value_bool(env, argv[2], &b->sync) != napi_ok) {
    free_commit_batch(b);
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "direct and sync must be booleans");
    return NULL;
  }
  /* Two passes: the paths, data buffers and index sizes, then the index bytes into an arena
   * of their total size. */
  size_t total = 0;
  bool ok = true;
  for (uint32_t i = 0; ok && i < count; i++) {
    commit_file *f = &b->files[i];
    b->count = i + 1;
    napi_value obj;
    void *index;
    ok = napi_get_element(env, argv[0], i, &obj) == napi_ok &&
         (f->data_path = get_path(env, obj, "data")) != NULL &&
         (f->index_path = get_path(env, obj, "index")) != NULL && get_data(env, obj, f) &&
         get_bytes(env, obj, "indexBytes", &index, &f->index_len);
    f->index_src = index;
    f->index_at = total;
    total += f->index_len;
    if (f->data_len > b->largest) b->largest = f->data_len;
  }
  if (ok && (b->arena = malloc(total > 0 ? total : 1)) == NULL) {
    throw_errno(env, ENOMEM, "malloc");
    ok = false;
  }
  for (uint32_t i = 0; ok && i < count; i++) {
    commit_file *f = &b->files[i];
    memcpy(b->arena + f->index_at, f->index_src, f->index_len);
  }
  napi_value promise, name;
  if (!ok || napi_create_reference(env, argv[0], 1, &b->keep) != napi_ok ||
      napi_create_promise(env, &b->deferred, &promise) != napi_ok ||
      napi_create_string_utf8(env, "sluice.commitFiles", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_async_work(env, NULL, name, commit_files_execute, commit_files_complete, b,
                             &b->work) != napi_ok ||
      napi_queue_async_work(env, b->work) != napi_ok) {
    /* A failure after the promise exists leaves it pending: only N-API itself fails here. */
    if (b->keep != NULL) napi_delete_reference(env, b->keep);
    free_commit_batch(b);
    if (ok) throw_last_napi_error(env);
    return NULL;
  }
  return promise;
}

static bool set_int(napi_env env, napi_value obj, const char *name, int value) {
  napi_value v;
  return napi_create_int32(env, value, &v) == napi_ok &&
         napi_set_named_property(env, obj, name, v) == napi_ok;
}

static bool set_fn(napi_env env, napi_value obj, const char *name, napi_callback cb) {
  napi_value fn;
  return napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, NULL, &fn) == napi_ok &&
         napi_set_named_property(env, obj, name, fn) == napi_ok;
}

NAPI_MODULE_INIT() {
  /* The advice and flag values differ between platforms, so JS takes them from here. */
  bool ok = set_fn(env, exports, "alignedBuffer", aligned_buffer) &&
            set_fn(env, exports, "fallocate", fallocate_fn) &&
            set_fn(env, exports, "fadvise", fadvise_fn) &&
            set_fn(env, exports, "syncFileRange", sync_file_range_fn) &&
            set_fn(env, exports, "preadCached", pread_cached) &&
            set_fn(env, exports, "addressOf", address_of) &&
            set_fn(env, exports, "commitFiles", commit_files);
  load_isal();
  if (isal_crc32 != NULL) ok = ok && set_fn(env, exports, "crc32", crc32_js);
#ifdef POSIX_FADV_NORMAL
  ok = ok && set_int(env, exports, "FADV_NORMAL", POSIX_FADV_NORMAL) &&
       set_int(env, exports, "FADV_SEQUENTIAL", POSIX_FADV_SEQUENTIAL) &&
       set_int(env, exports, "FADV_WILLNEED", POSIX_FADV_WILLNEED) &&
       set_int(env, exports, "FADV_DONTNEED", POSIX_FADV_DONTNEED);
#else
  ok = ok && set_int(env, exports, "FADV_NORMAL", 0) &&
       set_int(env, exports, "FADV_SEQUENTIAL", 0) && set_int(env, exports, "FADV_WILLNEED", 0) &&
       set_int(env, exports, "FADV_DONTNEED", 0);
#endif
#ifdef __linux__
  ok = ok && set_int(env, exports, "SYNC_FILE_RANGE_WAIT_BEFORE", SYNC_FILE_RANGE_WAIT_BEFORE) &&
       set_int(env, exports, "SYNC_FILE_RANGE_WRITE", SYNC_FILE_RANGE_WRITE) &&
       set_int(env, exports, "SYNC_FILE_RANGE_WAIT_AFTER", SYNC_FILE_RANGE_WAIT_AFTER);
#else
  ok = ok && set_int(env, exports, "SYNC_FILE_RANGE_WAIT_BEFORE", 1) &&
       set_int(env, exports, "SYNC_FILE_RANGE_WRITE", 2) &&
       set_int(env, exports, "SYNC_FILE_RANGE_WAIT_AFTER", 4);
#endif
  if (!ok) {
    throw_last_napi_error(env);
    return NULL;
  }
  return exports;
}
