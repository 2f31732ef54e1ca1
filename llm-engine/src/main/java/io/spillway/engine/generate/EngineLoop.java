package io.spillway.engine.generate;

import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Drives a {@link ContinuousBatcher} on a thread of its own, so services submit from any thread and
 * sequences join the running batch at the next step. Idle, the thread sleeps until a submission.
 */
public final class EngineLoop implements AutoCloseable {
    private final ContinuousBatcher batcher;
    private final Thread thread;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition work = lock.newCondition();
    private volatile boolean closing;

    public EngineLoop(ContinuousBatcher batcher, String name) {
        this.batcher = batcher;
        this.thread = Thread.ofPlatform().name(name).daemon().start(this::run);
    }

    public ContinuousBatcher batcher() {
        return batcher;
    }

    /**
     * Whether the stepping thread has died while not closing: only an {@link Error} (a forward pass's exceptions fail
     * its sequences and the loop goes on). Its running and queued generations will not end; a service restarts.
     */
    public boolean died() {
        return !closing && !thread.isAlive();
    }

    public Generation submit(GenerationRequest request, GenerationListener listener) {
        return wake(batcher.submit(request, listener));
    }

    public Generation submit(GenerationRequest request, GenerationListener listener, Session session) {
        return wake(batcher.submit(request, listener, session));
    }

    private Generation wake(Generation g) {
        lock.lock();
        try {
            work.signal();
        } finally {
            lock.unlock();
        }
        return g;
    }

    private void run() {
        while (!closing || batcher.hasWork()) {
            if (!batcher.step()) {
                lock.lock();
                try {
                    while (!closing && !batcher.hasWork()) {
                        work.awaitUninterruptibly();
                    }
                } finally {
                    lock.unlock();
                }
            }
        }
    }

    /** Lets running and queued generations finish, then stops the thread. */
    @Override
    public void close() throws InterruptedException {
        closing = true;
        lock.lock();
        try {
            work.signal();
        } finally {
            lock.unlock();
        }
        thread.join();
    }
}
