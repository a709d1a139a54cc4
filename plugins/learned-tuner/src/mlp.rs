//! A small multilayer perceptron: dense layers with ReLU, a linear output, mean squared
//! error, trained with Adam on mini-batches. Written out by hand because the model is tiny
//! (two hidden layers of a few dozen units) and must train deterministically in-process.

use crate::rng::Rng;

struct Dense {
    inputs: usize,
    outputs: usize,
    /// Row-major `outputs × inputs`.
    weights: Vec<f32>,
    bias: Vec<f32>,
    grad_w: Vec<f32>,
    grad_b: Vec<f32>,
    adam_m: Vec<f32>,
    adam_v: Vec<f32>,
}

impl Dense {
    fn new(inputs: usize, outputs: usize, rng: &mut Rng) -> Self {
        // He initialisation suits ReLU layers.
        let scale = (2.0 / inputs as f64).sqrt();
        let weights = (0..inputs * outputs)
            .map(|_| (rng.normal() * scale) as f32)
            .collect();
        let n = inputs * outputs + outputs;
        Dense {
            inputs,
            outputs,
            weights,
            bias: vec![0.0; outputs],
            grad_w: vec![0.0; inputs * outputs],
            grad_b: vec![0.0; outputs],
            adam_m: vec![0.0; n],
            adam_v: vec![0.0; n],
        }
    }

    fn forward(&self, input: &[f32], output: &mut Vec<f32>) {
        output.clear();
        for o in 0..self.outputs {
            let row = &self.weights[o * self.inputs..(o + 1) * self.inputs];
            output.push(self.bias[o] + row.iter().zip(input).map(|(w, x)| w * x).sum::<f32>());
        }
    }

    /// Accumulates gradients for one sample and returns the gradient w.r.t. the input.
    fn backward(&mut self, input: &[f32], grad_out: &[f32], grad_in: &mut Vec<f32>) {
        grad_in.clear();
        grad_in.resize(self.inputs, 0.0);
        for (o, &g) in grad_out.iter().enumerate() {
            if g == 0.0 {
                continue;
            }
            self.grad_b[o] += g;
            let row = o * self.inputs;
            for i in 0..self.inputs {
                self.grad_w[row + i] += g * input[i];
                grad_in[i] += g * self.weights[row + i];
            }
        }
    }

    fn adam_step(&mut self, lr: f32, step: i32, batch: usize) {
        const BETA1: f32 = 0.9;
        const BETA2: f32 = 0.999;
        const EPS: f32 = 1e-8;
        let correction1 = 1.0 - BETA1.powi(step);
        let correction2 = 1.0 - BETA2.powi(step);
        let scale = 1.0 / batch as f32;
        let params = self.weights.iter_mut().chain(self.bias.iter_mut());
        let grads = self.grad_w.iter_mut().chain(self.grad_b.iter_mut());
        for (((p, g), m), v) in params
            .zip(grads)
            .zip(&mut self.adam_m)
            .zip(&mut self.adam_v)
        {
            let grad = *g * scale;
            *m = BETA1 * *m + (1.0 - BETA1) * grad;
            *v = BETA2 * *v + (1.0 - BETA2) * grad * grad;
            *p -= lr * (*m / correction1) / ((*v / correction2).sqrt() + EPS);
            *g = 0.0;
        }
    }
}

/// Hyper-parameters of training.
#[derive(Debug, Clone)]
pub struct TrainConfig {
    pub hidden: Vec<usize>,
    pub epochs: usize,
    pub batch: usize,
    pub learning_rate: f32,
    pub seed: u64,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            hidden: vec![32, 32],
            epochs: 120,
            batch: 32,
            learning_rate: 3e-3,
            seed: 0x5EED,
        }
    }
}

/// A regression network `features → one number`.
pub struct Mlp {
    layers: Vec<Dense>,
}

impl Mlp {
    pub fn new(inputs: usize, hidden: &[usize], rng: &mut Rng) -> Self {
        let mut sizes = vec![inputs];
        sizes.extend_from_slice(hidden);
        sizes.push(1);
        let layers = sizes
            .windows(2)
            .map(|w| Dense::new(w[0], w[1], rng))
            .collect();
        Mlp { layers }
    }

    /// Runs the network, keeping every layer's activations (needed for backprop).
    fn forward_all(&self, input: &[f32]) -> Vec<Vec<f32>> {
        let mut activations = vec![input.to_vec()];
        for (i, layer) in self.layers.iter().enumerate() {
            let mut out = Vec::with_capacity(layer.outputs);
            layer.forward(&activations[i], &mut out);
            if i + 1 < self.layers.len() {
                out.iter_mut().for_each(|x| *x = x.max(0.0)); // ReLU on hidden layers
            }
            activations.push(out);
        }
        activations
    }

    pub fn predict(&self, input: &[f32]) -> f32 {
        self.forward_all(input)
            .last()
            .and_then(|o| o.first().copied())
            .unwrap_or(0.0)
    }

    /// Trains on `(features, target)` pairs with MSE; returns the final epoch's mean loss.
    pub fn train(inputs: &[Vec<f32>], targets: &[f32], config: &TrainConfig) -> (Mlp, f32) {
        let mut rng = Rng::new(config.seed);
        let width = inputs.first().map_or(0, Vec::len);
        let mut net = Mlp::new(width, &config.hidden, &mut rng);
        let mut order: Vec<usize> = (0..inputs.len()).collect();
        let mut step = 0;
        let mut last_loss = f32::NAN;
        let (mut grad, mut grad_in) = (Vec::new(), Vec::new());
        for _ in 0..config.epochs {
            rng.shuffle(&mut order);
            let mut total = 0.0f32;
            for batch in order.chunks(config.batch.max(1)) {
                for &i in batch {
                    let acts = net.forward_all(&inputs[i]);
                    let error = acts[acts.len() - 1][0] - targets[i];
                    total += error * error;
                    grad.clear();
                    grad.push(2.0 * error);
                    for l in (0..net.layers.len()).rev() {
                        net.layers[l].backward(&acts[l], &grad, &mut grad_in);
                        if l > 0 {
                            // ReLU derivative: gradient only flows where the unit was active.
                            for (g, a) in grad_in.iter_mut().zip(&acts[l]) {
                                if *a <= 0.0 {
                                    *g = 0.0;
                                }
                            }
                        }
                        std::mem::swap(&mut grad, &mut grad_in);
                    }
                }
                step += 1;
                for layer in &mut net.layers {
                    layer.adam_step(config.learning_rate, step, batch.len());
                }
            }
            last_loss = total / inputs.len().max(1) as f32;
        }
        (net, last_loss)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learns_a_nonlinear_function_deterministically() {
        let mut rng = Rng::new(7);
        let inputs: Vec<Vec<f32>> = (0..400)
            .map(|_| {
                vec![
                    rng.uniform() as f32 * 2.0 - 1.0,
                    rng.uniform() as f32 * 2.0 - 1.0,
                ]
            })
            .collect();
        let targets: Vec<f32> = inputs
            .iter()
            .map(|x| x[0] * x[0] + (x[1] * 3.0).sin() * 0.5)
            .collect();
        let config = TrainConfig {
            epochs: 150,
            ..TrainConfig::default()
        };
        let (net, loss) = Mlp::train(&inputs, &targets, &config);
        let variance = {
            let mean = targets.iter().sum::<f32>() / targets.len() as f32;
            targets.iter().map(|t| (t - mean).powi(2)).sum::<f32>() / targets.len() as f32
        };
        assert!(loss < variance * 0.1, "loss {loss} vs variance {variance}");
        let (again, _) = Mlp::train(&inputs, &targets, &config);
        assert_eq!(net.predict(&[0.3, -0.2]), again.predict(&[0.3, -0.2]));
    }
}
