//! Where `serve`'s log lines go: appended to a shared buffer by whoever logs, written to
//! stderr by a thread of its own in batches.
//!
//! Why not `tracing_appender::non_blocking`: it hands each line over a channel and wakes
//! its writer for nearly every one, a futex call and a context switch per request on a
//! busy two-core machine, where the fastest routes answer in microseconds. Here a line
//! wakes the writer only when it finds the buffer empty; the writer then waits a moment
//! (`GATHER`) for company and writes everything gathered in one `write`. So a line
//! reaches stderr within a few milliseconds, and under load a few hundred times a second
//! at most, whatever the request rate. When the reader of stderr falls behind and the
//! buffer reaches `MAX_PENDING`, loggers wait for the writer: nothing is dropped, and
//! memory stays bounded. At shutdown the guard waits up to `SHUTDOWN_WAIT` for what is
//! pending to be written; lines logged after shutdown began are dropped.

use std::io::Write;
use std::sync::{mpsc, Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use tracing_subscriber::fmt::MakeWriter;

/// How long the writer lets lines gather after the first one of a batch.
const GATHER: Duration = Duration::from_millis(5);

/// Bytes gathered beyond which the writer is woken at once (and stops gathering).
const FLUSH_AT: usize = 64 * 1024;

/// Bytes waiting beyond which loggers wait for the writer.
const MAX_PENDING: usize = 1024 * 1024;

#[derive(Default)]
struct Pending {
    bytes: Vec<u8>,
    /// The writer is waiting for a first line (not gathering, not writing).
    idle: bool,
    closed: bool,
}

#[derive(Default)]
struct Shared {
    pending: Mutex<Pending>,
    /// Wakes the writer: a first line, a full batch, or closing.
    work: Condvar,
    /// Wakes loggers waiting for room.
    room: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Pending> {
        // A logger that panicked mid-append leaves at worst a torn line; keep logging.
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The `MakeWriter` handed to the subscriber; cheap to clone.
#[derive(Clone)]
pub struct BatchedWriter {
    shared: Arc<Shared>,
}

/// Writes out what is still pending and stops the writer thread when dropped.
pub struct BatchedWriterGuard {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
    /// Disconnected when the writer thread has ended, however it ended.
    ended: mpsc::Receiver<()>,
}

/// How long a shutdown waits for the last lines to be written: a reader of stderr that
/// stopped reading must not keep the process from exiting.
const SHUTDOWN_WAIT: Duration = Duration::from_secs(2);

/// Held by the writer thread: when it ends (closed, or a panic), loggers stop waiting
/// for room and the guard stops waiting for it.
struct Ending<'a> {
    shared: &'a Shared,
    _ended: mpsc::Sender<()>,
}

impl Drop for Ending<'_> {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.room.notify_all();
    }
}

/// Starts the writer thread over `out`.
pub fn batched<W: Write + Send + 'static>(out: W) -> std::io::Result<(BatchedWriter, BatchedWriterGuard)> {
    let shared = Arc::new(Shared::default());
    let (ended_tx, ended) = mpsc::channel();
    let thread = {
        let shared = Arc::clone(&shared);
        std::thread::Builder::new().name("authenticon-log".into()).spawn(move || {
            let _ending = Ending { shared: &shared, _ended: ended_tx };
            write_batches(&shared, out);
        })?
    };
    let guard = BatchedWriterGuard { shared: Arc::clone(&shared), thread: Some(thread), ended };
    Ok((BatchedWriter { shared }, guard))
}

fn write_batches<W: Write>(shared: &Shared, mut out: W) {
    let mut batch = Vec::with_capacity(FLUSH_AT);
    loop {
        {
            let mut pending = shared.lock();
            while pending.bytes.is_empty() && !pending.closed {
                pending.idle = true;
                pending = shared.work.wait(pending).unwrap_or_else(PoisonError::into_inner);
            }
            pending.idle = false;
            if !pending.closed && pending.bytes.len() < FLUSH_AT {
                // Company for the first line; a full batch or closing cuts this short.
                pending = shared.work.wait_timeout(pending, GATHER).unwrap_or_else(PoisonError::into_inner).0;
            }
            if pending.bytes.is_empty() && pending.closed {
                return;
            }
            std::mem::swap(&mut pending.bytes, &mut batch);
        }
        shared.room.notify_all();
        // A failed write (stderr closed) loses these lines; there is nowhere to report it.
        let _ = out.write_all(&batch).and_then(|()| out.flush());
        batch.clear();
        if batch.capacity() > MAX_PENDING {
            batch.shrink_to(FLUSH_AT);
        }
    }
}

impl Write for &BatchedWriter {
    fn write(&mut self, line: &[u8]) -> std::io::Result<usize> {
        let shared = &self.shared;
        let mut pending = shared.lock();
        while pending.bytes.len() >= MAX_PENDING && !pending.closed {
            pending = shared.room.wait(pending).unwrap_or_else(PoisonError::into_inner);
        }
        if pending.closed {
            // Logged after shutdown began (or after the writer failed): nobody would write
            // it, and keeping it would grow without bound.
            return Ok(line.len());
        }
        let was_empty = pending.bytes.is_empty();
        pending.bytes.extend_from_slice(line);
        // Only a writer waiting for a first line, or one gathering that should stop
        // gathering, needs waking: each wake is a system call.
        let wake = (was_empty && pending.idle)
            || (pending.bytes.len() >= FLUSH_AT && pending.bytes.len() - line.len() < FLUSH_AT);
        drop(pending);
        if wake {
            shared.work.notify_one();
        }
        Ok(line.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for BatchedWriter {
    type Writer = &'a BatchedWriter;

    fn make_writer(&'a self) -> Self::Writer {
        self
    }
}

impl Drop for BatchedWriterGuard {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.work.notify_one();
        self.shared.room.notify_all();
        // Ended (the sender dropped), or still blocked in a write after SHUTDOWN_WAIT: then
        // the thread is left behind, to end with the process.
        if let Err(mpsc::RecvTimeoutError::Disconnected) = self.ended.recv_timeout(SHUTDOWN_WAIT) {
            if let Some(thread) = self.thread.take() {
                let _ = thread.join();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// A sink the test can read while the writer thread holds it.
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<Vec<u8>>>>);

    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().push(buf.to_vec());
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn log(writer: &BatchedWriter, line: &str) {
        writer.make_writer().write_all(line.as_bytes()).unwrap();
    }

    #[test]
    fn every_line_arrives_in_order_and_lines_written_together_leave_together() {
        let sink = Sink::default();
        let (writer, guard) = batched(sink.clone()).unwrap();
        // Lines logged within the gathering time share one write.
        for i in 0..100 {
            log(&writer, &format!("line {i}\n"));
        }
        let all_in = || sink.0.lock().unwrap().concat().ends_with(b"line 99\n");
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while !all_in() && std::time::Instant::now() < deadline {
            std::thread::sleep(GATHER);
        }
        let writes = sink.0.lock().unwrap().len();
        assert!(all_in() && writes <= 10, "{writes} writes for 100 lines");
        // A line on its own is written without anyone else logging.
        log(&writer, "alone\n");
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while sink.0.lock().unwrap().len() == writes && std::time::Instant::now() < deadline {
            std::thread::sleep(GATHER);
        }
        assert_eq!(sink.0.lock().unwrap().last().unwrap(), b"alone\n");
        log(&writer, "last\n");
        drop(guard);
        let all: Vec<u8> = sink.0.lock().unwrap().concat();
        let expected: String = (0..100).map(|i| format!("line {i}\n")).collect::<String>() + "alone\nlast\n";
        assert_eq!(String::from_utf8(all).unwrap(), expected);
    }

    #[test]
    fn loggers_from_many_threads_lose_nothing_beyond_the_pending_limit() {
        let sink = Sink::default();
        let (writer, guard) = batched(sink.clone()).unwrap();
        let line = "x".repeat(999) + "\n";
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| (0..1_000).for_each(|_| log(&writer, &line)));
            }
        });
        drop(guard);
        let all: Vec<u8> = sink.0.lock().unwrap().concat();
        // 4 MB through a 1 MB buffer: loggers waited rather than dropped or tore lines.
        assert_eq!(all.len(), 4 * 1_000 * 1_000);
        assert!(all.split(|b| *b == b'\n').filter(|l| !l.is_empty()).all(|l| l == &line.as_bytes()[..999]));
    }

    /// A reader of stderr that never reads again: each write blocks for good.
    struct Stalled;

    impl Write for Stalled {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            loop {
                std::thread::park();
            }
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// A writer that fails outright.
    struct Broken;

    impl Write for Broken {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            panic!("the sink broke");
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// Runs `f` on a thread of its own; whether it finished within `limit`.
    fn finishes_within(limit: Duration, f: impl FnOnce() + Send + 'static) -> bool {
        let (done, finished) = mpsc::channel();
        std::thread::spawn(move || {
            f();
            let _ = done.send(());
        });
        finished.recv_timeout(limit).is_ok()
    }

    #[test]
    fn a_stalled_reader_delays_shutdown_by_a_bounded_wait_only() {
        let (writer, guard) = batched(Stalled).unwrap();
        log(&writer, "never read\n");
        std::thread::sleep(GATHER * 4);
        assert!(finishes_within(SHUTDOWN_WAIT * 3, move || drop(guard)));
    }

    #[test]
    fn loggers_do_not_wait_for_room_from_a_writer_that_died() {
        let (writer, guard) = batched(Broken).unwrap();
        log(&writer, "the first line breaks the writer\n");
        std::thread::sleep(GATHER * 4);
        // Twice the pending limit: without the writer's end releasing them, the loggers
        // would wait for room forever.
        let line = "y".repeat(1023) + "\n";
        assert!(finishes_within(Duration::from_secs(10), move || {
            (0..2 * MAX_PENDING / 1024).for_each(|_| log(&writer, &line));
        }));
        assert!(finishes_within(SHUTDOWN_WAIT * 3, move || drop(guard)));
    }
}
