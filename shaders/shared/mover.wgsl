// The photon mover's core, shared by the passive transport (transport.wgsl) and the
// ASE transport (ase_transport.wgsl), as src/transport/mover.rs and interfaces.rs
// serve both on the CPU: the nearest face or film edge ahead of a packet, its move
// along a segment (a guided film ray folded between the faces), and its meeting a
// face or an edge (Fresnel reflection or refraction, or leaving the stack). What a
// kernel's walk adds — how far a packet may go, cell planes, what its weight does
// along the path, Russian roulette and the tallies — stays in the kernel.

// The events that can end a segment (mover::Event).
const BUDGET: u32 = 0u;
const SCATTER: u32 = 1u;
const FACE: u32 = 2u;
const EDGE: u32 = 3u;
const CELL_PLANE: u32 = 4u;

// "No plane ahead" (a packet running parallel to the faces of an infinite film).
const INFINITE: f32 = 3.0e38;

// The stack is a GpuSlab (emitted from src/gpu/shared/structs.rs), each kernel's
// parameters' `slab`.

fn slab_layer(slab: GpuSlab, i: u32) -> GpuLayer {
    if (i == FILM) {
        return slab.film;
    }
    return slab.substrate;
}

fn over_film(slab: GpuSlab, x: f32, y: f32) -> bool {
    return (slab.finite_length == 0u || abs(x) <= slab.half_length)
        && (slab.finite_width == 0u || abs(y) <= slab.half_width);
}

// The nearest event ahead and the path to it; for a film edge or cell plane also the
// axis normal to it and whether the packet runs toward its plus side.
struct Ahead {
    s: f32,
    event: u32,
    axis: u32,
    plus: bool,
}

// `ahead` or, where nearer, the face of layer `layer` (`here`) ahead (unless the ray
// is folded between the film's faces) or a film edge ahead (interfaces::nearest_plane,
// nearest_edge), the face first, then x, then y.
fn nearest_plane(slab: GpuSlab, layer: u32, here: GpuLayer, pos: vec3<f32>, dir: vec3<f32>, folded: bool, ahead: Ahead) -> Ahead {
    var a = ahead;
    if (!folded && dir.z != 0.0) {
        let d = max((select(here.z_top, here.z_bottom, dir.z > 0.0) - pos.z) / dir.z, 0.0);
        if (d < a.s) {
            a = Ahead(d, FACE, 2u, dir.z > 0.0);
        }
    }
    if (layer == FILM) {
        for (var k = 0u; k < 2u; k++) {
            let u = dir[k];
            let finite = select(slab.finite_width, slab.finite_length, k == 0u);
            let half = select(slab.half_width, slab.half_length, k == 0u);
            if (finite != 0u && u != 0.0) {
                let d = max((select(-half, half, u > 0.0) - pos[k]) / u, 0.0);
                if (d < a.s) {
                    a = Ahead(d, EDGE, k, u > 0.0);
                }
            }
        }
    }
    return a;
}

// A packet's position and direction.
struct Ray {
    pos: vec3<f32>,
    dir: vec3<f32>,
}

// A packet moved a path `s` along `dir`; a folded film ray zigzags between the film's
// faces, its z reflected into the film and its direction's z turned with it
// (Stack::fold_in_film).
fn advance(slab: GpuSlab, pos: vec3<f32>, dir: vec3<f32>, s: f32, folded: bool) -> Ray {
    var r = Ray(pos, dir);
    r.pos.x += s * dir.x;
    r.pos.y += s * dir.y;
    if (folded) {
        let d = slab.film.z_bottom - slab.film.z_top;
        let u = pos.z - slab.film.z_top + dir.z * s;
        let f = u - 2.0 * d * floor(u / (2.0 * d));
        if (f <= d) {
            r.pos.z = slab.film.z_top + f;
        } else {
            r.pos.z = slab.film.z_top + 2.0 * d - f;
            r.dir.z = -dir.z;
        }
    } else {
        r.pos.z += s * dir.z;
    }
    return r;
}

// What meeting a plane did (interfaces::Outcome): reflected, entered another layer, or
// left the stack (through the top, the bottom or a film edge, at `cos_out` to the
// plane's outward normal).
const REFLECTED: u32 = 0u;
const ENTERED: u32 = 1u;
const LEFT_TOP: u32 = 2u;
const LEFT_BOTTOM: u32 = 3u;
const LEFT_EDGE: u32 = 4u;

// The packet after meeting a plane: what happened, at what cosine to the plane's
// outward normal it left, its layer, position and direction.
struct Met {
    outcome: u32,
    cos_out: f32,
    layer: u32,
    pos: vec3<f32>,
    dir: vec3<f32>,
}

// Meet the plane `ahead` names (a FACE of layer `layer` or a film EDGE): the packet
// is put on it, and reflected with the Fresnel reflectance (one number drawn where
// the plane can transmit) or refracted into the layer beyond, or leaves
// (interfaces::meet_face with Stack::beyond, and meet_edge: beyond every edge is the
// cover medium). Faces and edges share one branch so that SIMD lanes at either run
// the Fresnel step once.
fn meet_plane(slab: GpuSlab, layer: u32, ahead: Ahead, pos: vec3<f32>, dir: vec3<f32>) -> Met {
    let here = slab_layer(slab, layer);
    var m = Met(LEFT_TOP, 0.0, layer, pos, dir);
    var n1 = here.n;
    var n2 = slab.n_cover;
    let k = ahead.axis;
    var next = FILM;
    if (ahead.event == FACE) {
        let down = ahead.plus;
        m.pos.z = select(here.z_top, here.z_bottom, down);
        if (layer == FILM && down && slab.layers > 1u) {
            n2 = slab.substrate.n;
            next = SUBSTRATE;
            m.outcome = ENTERED;
        } else if (down) {
            n2 = slab.n_below;
            m.outcome = LEFT_BOTTOM;
        } else if (layer != FILM && over_film(slab, pos.x, pos.y)) {
            n2 = slab.film.n;
            m.outcome = ENTERED;
        }
    } else {
        let half = select(slab.half_width, slab.half_length, k == 0u);
        m.pos[k] = select(-half, half, ahead.plus);
        n1 = slab.film.n;
        m.outcome = LEFT_EDGE;
    }
    let crossing = fresnel(n1, n2, abs(dir[k]));
    if (crossing.y >= 0.0 && take01() >= crossing.x) {
        if (m.outcome != LEFT_EDGE) {
            let ratio = n1 / n2;
            m.dir = vec3<f32>(dir.x * ratio, dir.y * ratio, crossing.y * sign(dir.z));
        }
        if (m.outcome == ENTERED) {
            m.layer = next;
        }
        m.cos_out = crossing.y;
        return m;
    }
    m.outcome = REFLECTED;
    m.dir[k] = -dir[k];
    return m;
}
