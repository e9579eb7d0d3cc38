//! The ordered parallel pipeline every file-reading command uses.
//!
//! One reader thread opens inputs and cuts them into batches; `threads`
//! workers decode and process batches (each with its own state, such as a
//! Sigma session); the calling thread receives the results in input order,
//! so output does not depend on the thread count. Channels are bounded, so
//! memory stays flat however large the input. With one thread everything
//! runs inline on the calling thread.

use std::collections::BTreeMap;

use crossbeam_channel::bounded;
use gsoc_decode::{Batch, Chunk, Input, Options, Problem, Quarantined, read_input};
use gsoc_event::Format;

/// What the consumer sees, in input order.
pub enum Item<R> {
    /// An input starts.
    Start {
        /// The input's name.
        file: std::sync::Arc<str>,
        /// The format it is read as.
        format: Format,
    },
    /// A batch's result.
    Done(R),
    /// A record that could not be framed.
    Quarantined(Quarantined),
    /// An input ended.
    End,
    /// An input could not be read.
    Problem(Problem),
}

/// Runs the pipeline. `work` turns a batch into a result with per-worker
/// state from `state`; `consume` gets every item in order and returns
/// false to stop early.
pub fn run<S, R>(
    inputs: &[Input],
    options: &Options,
    threads: usize,
    state: impl Fn() -> S + Sync,
    work: impl Fn(&mut S, Batch) -> R + Sync,
    mut consume: impl FnMut(Item<R>) -> bool,
) where
    R: Send,
{
    if threads <= 1 {
        let mut st = state();
        for input in inputs {
            let keep_going = read_input(input, options, &mut |chunk| {
                consume(to_item(chunk, |b| work(&mut st, b)))
            });
            if !keep_going {
                return;
            }
        }
        return;
    }
    let (chunk_tx, chunk_rx) = bounded::<(u64, Chunk)>(threads * 4);
    let (result_tx, result_rx) = bounded::<(u64, Item<R>)>(threads * 4);
    std::thread::scope(|scope| {
        scope.spawn(move || {
            let mut seq = 0u64;
            for input in inputs {
                let sent = read_input(input, options, &mut |chunk| {
                    seq += 1;
                    chunk_tx.send((seq, chunk)).is_ok()
                });
                if !sent {
                    break;
                }
            }
        });
        for _ in 0..threads {
            let (rx, tx) = (chunk_rx.clone(), result_tx.clone());
            let (state, work) = (&state, &work);
            scope.spawn(move || {
                let mut st = state();
                for (seq, chunk) in rx {
                    if tx
                        .send((seq, to_item(chunk, |b| work(&mut st, b))))
                        .is_err()
                    {
                        break;
                    }
                }
            });
        }
        drop((chunk_rx, result_tx));
        // Owned here, so that returning early drops it and unblocks workers.
        let results = result_rx;
        let mut pending = BTreeMap::new();
        let mut next = 1u64;
        for (seq, item) in results.iter() {
            pending.insert(seq, item);
            while let Some(item) = pending.remove(&next) {
                next += 1;
                if !consume(item) {
                    // Dropping `results` makes the workers' sends fail, and
                    // then the reader's.
                    return;
                }
            }
        }
    });
}

/// [`run`] for consumers that can fail (writing output): the first error
/// stops the run and is returned.
pub fn run_until_error<S, R: Send, E>(
    inputs: &[Input],
    options: &Options,
    threads: usize,
    state: impl Fn() -> S + Sync,
    work: impl Fn(&mut S, Batch) -> R + Sync,
    mut consume: impl FnMut(Item<R>) -> Result<(), E>,
) -> Result<(), E> {
    let mut failed = None;
    run(
        inputs,
        options,
        threads,
        state,
        work,
        |item| match consume(item) {
            Ok(()) => true,
            Err(e) => {
                failed = Some(e);
                false
            }
        },
    );
    failed.map_or(Ok(()), Err)
}

fn to_item<R>(chunk: Chunk, work: impl FnOnce(Batch) -> R) -> Item<R> {
    match chunk {
        Chunk::Start { file, format } => Item::Start { file, format },
        Chunk::Batch(batch) => Item::Done(work(batch)),
        Chunk::Quarantined(q) => Item::Quarantined(q),
        Chunk::End { .. } => Item::End,
        Chunk::Problem(p) => Item::Problem(p),
    }
}
