import Glibc

/// A mutual-exclusion lock (a `pthread_mutex_t` of its own, never moved) with a condition variable: what the
/// background threads (writers, compressors, diff loaders, registry streams) share state through.
public final class ConditionLock: @unchecked Sendable {
  private let mutex: UnsafeMutablePointer<pthread_mutex_t>
  private let condition: UnsafeMutablePointer<pthread_cond_t>

  public init() {
    mutex = .allocate(capacity: 1)
    mutex.initialize(to: pthread_mutex_t())
    pthread_mutex_init(mutex, nil)
    condition = .allocate(capacity: 1)
    condition.initialize(to: pthread_cond_t())
    pthread_cond_init(condition, nil)
  }

  deinit {
    pthread_cond_destroy(condition)
    condition.deallocate()
    pthread_mutex_destroy(mutex)
    mutex.deallocate()
  }

  public func lock() { pthread_mutex_lock(mutex) }
  public func unlock() { pthread_mutex_unlock(mutex) }

  /// Waits for a ``broadcast()`` (the lock held before and after).
  public func wait() { pthread_cond_wait(condition, mutex) }

  /// Wakes every thread waiting in ``wait()``.
  public func broadcast() { pthread_cond_broadcast(condition) }

  /// Runs `body` with the lock held.
  public func withLock<T>(_ body: () throws -> T) rethrows -> T {
    lock()
    defer { unlock() }
    return try body()
  }
}

/// Threads of our own, for work that overlaps the caller's (a detached POSIX thread).
public enum BackgroundThread {
  /// Starts `body` on a new thread with a stack of `stackSize` bytes.
  public static func start(stackSize: Int = 1 << 20, _ body: @escaping @Sendable () -> Void) {
    final class Box: @unchecked Sendable {
      let body: @Sendable () -> Void
      init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
    var attributes = pthread_attr_t()
    pthread_attr_init(&attributes)
    defer { pthread_attr_destroy(&attributes) }
    pthread_attr_setstacksize(&attributes, stackSize)
    pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
    let context = Unmanaged.passRetained(Box(body)).toOpaque()
    var thread = pthread_t()
    let result = pthread_create(
      &thread, &attributes,
      { context in
        guard let context else { return nil }
        Unmanaged<Box>.fromOpaque(context).takeRetainedValue().body()
        return nil
      }, context)
    // Without a thread the work runs here: slower, never lost.
    if result != 0 { Unmanaged<Box>.fromOpaque(context).takeRetainedValue().body() }
  }
}
