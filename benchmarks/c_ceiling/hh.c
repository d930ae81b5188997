/* Hand-vectorised HH ceiling (W1a): classic HH, forward Euler, dt 0.01 ms, I = 10,
 * float32, spike = upward crossing of 0 mV, per-neuron spike counts.
 * Loop order: each OpenMP thread owns a slice of neurons and walks it in tiles of TILE
 * neurons; for each tile all steps run with the state held in L1 (time loop inside).
 * Compile with -DTIME_OUTER for the JAX-like order (time outside). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <omp.h>

#ifndef TILE
#define TILE 256
#endif

static inline void hh_tile(float *restrict v, float *restrict m, float *restrict h,
                           float *restrict n, int *restrict cnt, int len, int steps) {
    const float dt = 0.01f, I = 10.0f;
    for (int s = 0; s < steps; s++) {
#pragma omp simd
        for (int i = 0; i < len; i++) {
            float V = v[i], M = m[i], H = h[i], N = n[i];
            float am = 0.1f * (V + 40.0f) / (1.0f - expf(-(V + 40.0f) / 10.0f));
            float bm = 4.0f * expf(-(V + 65.0f) / 18.0f);
            float ah = 0.07f * expf(-(V + 65.0f) / 20.0f);
            float bh = 1.0f / (1.0f + expf(-(V + 35.0f) / 10.0f));
            float an = 0.01f * (V + 55.0f) / (1.0f - expf(-(V + 55.0f) / 10.0f));
            float bn = 0.125f * expf(-(V + 65.0f) / 80.0f);
            float iion = 120.0f * M * M * M * H * (V - 50.0f) + 36.0f * N * N * N * N * (V + 77.0f)
                       + 0.3f * (V + 54.387f);
            float Vn = V + dt * (I - iion);
            m[i] = M + dt * (am * (1.0f - M) - bm * M);
            h[i] = H + dt * (ah * (1.0f - H) - bh * H);
            n[i] = N + dt * (an * (1.0f - N) - bn * N);
            cnt[i] += (V < 0.0f) & (Vn >= 0.0f);
            v[i] = Vn;
        }
    }
}

int main(int argc, char **argv) {
    int N = argc > 1 ? atoi(argv[1]) : 100000;
    int steps = argc > 2 ? atoi(argv[2]) : 10000;
    int reps = argc > 3 ? atoi(argv[3]) : 3;
    float *v = aligned_alloc(64, sizeof(float) * (N + 64)), *m = aligned_alloc(64, sizeof(float) * (N + 64));
    float *h = aligned_alloc(64, sizeof(float) * (N + 64)), *n = aligned_alloc(64, sizeof(float) * (N + 64));
    int *cnt = aligned_alloc(64, sizeof(int) * (N + 64));
    double best = 1e30, total = 0, times[64];
    if (reps > 64) reps = 64;
    for (int r = 0; r < reps; r++) {
        for (int i = 0; i < N; i++) {  /* steady state at -65 mV */
            v[i] = -65.0f; m[i] = 0.0529325f; h[i] = 0.5961208f; n[i] = 0.3176769f; cnt[i] = 0;
        }
        double t0 = omp_get_wtime();
#ifdef TIME_OUTER
        for (int s = 0; s < steps; s++) {
#pragma omp parallel for schedule(static)
            for (int t = 0; t < N; t += TILE)
                hh_tile(v + t, m + t, h + t, n + t, cnt + t, (N - t < TILE ? N - t : TILE), 1);
        }
#else
#pragma omp parallel for schedule(static)
        for (int t = 0; t < N; t += TILE)
            hh_tile(v + t, m + t, h + t, n + t, cnt + t, (N - t < TILE ? N - t : TILE), steps);
#endif
        double el = omp_get_wtime() - t0;
        if (el < best) best = el;
        times[r] = el;
    }
    for (int i = 0; i < N; i++) total += cnt[i];
    for (int i = 1; i < reps; i++)  /* insertion sort for the median */
        for (int j = i; j > 0 && times[j] < times[j - 1]; j--) {
            double t = times[j]; times[j] = times[j - 1]; times[j - 1] = t;
        }
    double med = times[reps / 2];
    printf("N=%d steps=%d threads=%d median=%.4fs neuron_steps_per_s(median)=%.4e "
           "neuron_steps_per_s(best)=%.4e spikes_per_neuron=%.3f\n",
           N, steps, omp_get_max_threads(), med, (double)N * steps / med,
           (double)N * steps / best, total / N);
    return 0;
}
