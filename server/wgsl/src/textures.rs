//! CUDA texture objects (`cudaTextureObject_t`, `CUtexObject` kernel
//! parameters) as WGSL resources.
//!
//! How a texture object is read decides what it becomes:
//! * only `tex1Dfetch<T>(t, i)`: the texture is bound to linear memory and
//!   the fetch reads element `i` of it, so it is a read-only storage buffer
//!   of `T`, read like a `const T*` parameter (bounds clamps included);
//! * only `tex1D<T>`, `tex2D<T>`, `tex3D<T>`, `tex2DLayered<T>` or
//!   `texCubemap<T>` with a float element (`float`, `float2`, `float4`, or
//!   a typedef of one): a sampled WGSL texture (`texture_2d<f32>`,
//!   `texture_3d<f32>`, `texture_2d_array<f32>`, `texture_cube<f32>`) and a
//!   `sampler`, read with `textureSampleLevel` at level 0. A 1-D CUDA array
//!   (`tex1D`) is a 2-D texture of height 1 read at row 0.5, since WGSL
//!   samples no `texture_1d` in compute shaders. Filtering and addressing
//!   modes are the sampler's (the runner creates it from the host's texture
//!   descriptor). CUDA's unnormalized coordinates (texel `i` covers
//!   `[i, i + 1)`) are divided by the texture's size, which puts texel
//!   centres where CUDA has them; a texture the host creates with
//!   `normalizedCoords = 1` sets the `TEX_NORMALIZED_<name>` override
//!   instead.
//!
//! A texture object passed to a device function of the file
//! (`getPixel(x, y, tex)`) is followed there: the function is specialised
//! for the texture (no WGSL argument), and its reads count as the kernel's
//! (template arguments of the call name their element types:
//! `tex2DBicubic<uchar, float>(tex, u, v)` reads `tex2D<float>`).
//!
//! Anything else (integer elements, surfaces, a texture object copied or
//! stored, reads of two kinds) is refused with a message naming it.

use std::collections::BTreeMap;

use cudalens_syntax::Span;
use cudalens_syntax::ir::{Expr, ExprKind, Stmt, Type as CType};
use cudalens_syntax::model::{FileModel, Function};

use crate::bindings::{BindingKind, SidecarBinding};
use crate::context::{FnLower, Sym, Val};
use crate::decl::{Decl, Space};
use crate::emit::WStmt;
use crate::types::{Scalar, TexDim, Ty, is_texture_object, map_value_type};
use crate::wexpr::WExpr;

/// What a texture-object parameter becomes.
pub enum TextureBinding {
    /// Read with `tex1Dfetch`: bind this `const T*` parameter as a buffer.
    Buffer(cudalens_syntax::model::Param),
    /// The declarations (the normalized-coordinates override, the texture,
    /// the sampler) and the bindings of those bound (none after an error).
    Bound(Vec<(Decl, Option<SidecarBinding>)>),
}

/// How a kernel reads one texture object.
#[derive(Clone, Debug, PartialEq)]
enum TexUse {
    /// `tex1Dfetch<T>`: linear memory of `T`.
    Fetch(String),
    /// Sampled reads through a texture of `TexDim`, of the element types
    /// (`float4` and `float` reads of one texture are one binding).
    Sample(TexDim, Vec<String>),
}

/// The one way `body` reads the texture object `name`, following it into
/// the file's device functions it is passed to (`getPixel(x, y, tex)`,
/// `tex2DBicubic<uchar, float>(tex, u, v)`), or why it cannot be expressed.
fn texture_use(model: &FileModel, body: &Stmt, name: &str) -> Result<TexUse, String> {
    let mut uses: Vec<TexUse> = Vec::new();
    collect_uses(model, body, name, &BTreeMap::new(), 0, &mut uses)?;
    match uses.len() {
        0 => Err(format!("texture object `{name}` is never read")),
        1 => Ok(uses.remove(0)),
        _ => Err(format!(
            "texture object `{name}` is read in two ways (linear fetches and sampling, or sampling of two dimensionalities): one WGSL binding cannot serve both"
        )),
    }
}

/// Whether a host function of the file names `cudaReadModeNormalizedFloat`
/// (a texture descriptor's `readMode`).
fn host_reads_normalized_floats(model: &FileModel) -> bool {
    model.functions.iter().any(|f| {
        !f.runs_on_device()
            && f.body.as_deref().is_some_and(|b| {
                let mut found = false;
                b.walk_exprs(&mut |e| {
                    found |=
                        matches!(&e.kind, ExprKind::Ident(n) if n == "cudaReadModeNormalizedFloat");
                });
                found
            })
    })
}

/// How deep [`collect_uses`] follows a texture object through device
/// functions.
const MAX_TEXTURE_CALL_DEPTH: usize = 8;

/// The file's device function `callee` when it takes a texture object at
/// argument position `index`.
fn texture_taking_function<'m>(
    model: &'m FileModel,
    callee: &str,
    index: usize,
    args: usize,
) -> Option<&'m Function> {
    if callee == "tex1Dfetch" || TexDim::of_call(callee).is_some() {
        return None;
    }
    let f = model.function(callee)?;
    (f.body.is_some()
        && f.callable_from_device()
        && args <= f.params.len()
        && f.params
            .get(index)
            .is_some_and(|p| is_texture_object(&p.ty)))
    .then_some(f)
}

/// Adds to `uses` how `body` reads the texture object `name`; `subst` maps
/// the template parameters of the function `body` belongs to to the
/// arguments of the call being followed.
fn collect_uses(
    model: &FileModel,
    body: &Stmt,
    name: &str,
    subst: &BTreeMap<String, String>,
    depth: usize,
    uses: &mut Vec<TexUse>,
) -> Result<(), String> {
    let mut problem: Option<String> = None;
    let mut named = 0usize;
    let mut as_texture = 0usize;
    let mut calls: Vec<(&Function, String, BTreeMap<String, String>)> = Vec::new();
    let resolve = |t: &str| {
        subst
            .get(t.trim())
            .cloned()
            .unwrap_or_else(|| t.to_string())
    };
    body.walk_exprs(&mut |e| match &e.kind {
        ExprKind::Ident(n) if n == name => named += 1,
        ExprKind::Call(call) => {
            let callee = call.callee.trim_start_matches("::");
            // Passed on to a device function: its reads count.
            let mut passed = false;
            for (i, a) in call.args.iter().enumerate() {
                if a.as_ident() != Some(name) {
                    continue;
                }
                if let Some(f) = texture_taking_function(model, callee, i, call.args.len()) {
                    let inner: BTreeMap<String, String> = f
                        .template_params
                        .iter()
                        .zip(&call.template_args)
                        .map(|(tp, a)| (tp.name.clone(), resolve(a)))
                        .collect();
                    calls.push((f, f.params[i].name.clone(), inner));
                    as_texture += 1;
                    passed = true;
                }
            }
            if passed || call.args.first().and_then(|a| a.as_ident()) != Some(name) {
                return;
            }
            let elem = call.template_args.first().map(|t| resolve(t));
            let u = match (callee, elem) {
                ("tex1Dfetch", Some(t)) => TexUse::Fetch(t),
                (c, Some(t)) if TexDim::of_call(c).is_some() => {
                    TexUse::Sample(TexDim::of_call(c).unwrap_or(TexDim::D2), vec![t])
                }
                (c, None) if c.starts_with("tex") => {
                    problem.get_or_insert(format!(
                        "`{c}` on the texture object `{name}` needs its element type (`{c}<float>(...)`)"
                    ));
                    return;
                }
                (c, _) if c.starts_with("tex") || c.starts_with("surf") => {
                    problem.get_or_insert(format!(
                        "texture object `{name}`: `{c}` is not supported (tex1Dfetch, tex1D, tex2D, tex3D, tex2DLayered and texCubemap are)"
                    ));
                    return;
                }
                _ => return,
            };
            as_texture += 1;
            add_use(uses, u);
        }
        _ => {}
    });
    if let Some(p) = problem {
        return Err(p);
    }
    if named > as_texture {
        return Err(format!(
            "texture object `{name}` is copied or passed where no texture object is expected: only its reads (`tex1Dfetch`, `tex1D`, `tex2D`, `tex3D`, `tex2DLayered`, `texCubemap`) and device functions taking a `cudaTextureObject_t` can be expressed in WGSL"
        ));
    }
    for (f, param, inner) in calls {
        if depth >= MAX_TEXTURE_CALL_DEPTH {
            return Err(format!(
                "texture object `{name}` is passed through more than {MAX_TEXTURE_CALL_DEPTH} device functions"
            ));
        }
        if let Some(b) = f.body.as_deref() {
            collect_uses(model, b, &param, &inner, depth + 1, uses)?;
        }
    }
    Ok(())
}

/// Adds one read to the reads seen so far (`float4` and `float` reads of
/// one texture are one binding).
fn add_use(uses: &mut Vec<TexUse>, u: TexUse) {
    if let TexUse::Sample(dim, new) = &u
        && let Some(TexUse::Sample(_, elems)) = uses
            .iter_mut()
            .find(|x| matches!(x, TexUse::Sample(d, _) if d == dim))
    {
        for t in new {
            if !elems.contains(t) {
                elems.push(t.clone());
            }
        }
    } else if !uses.contains(&u) {
        uses.push(u);
    }
}

/// The swizzle taking a sampled read (a `vec4<f32>`) to the CUDA element
/// type, `None` for elements WGSL cannot sample (integers).
fn sampled_swizzle(ty: &Ty) -> Option<&'static str> {
    Some(match ty {
        Ty::Scalar(Scalar::F32) => ".x",
        Ty::Vector(Scalar::F32, 2) => ".xy",
        Ty::Vector(Scalar::F32, 4) => "",
        _ => return None,
    })
}

impl FnLower<'_, '_> {
    /// Binds the texture-object kernel parameter `p`: a storage buffer for
    /// `tex1Dfetch`, or a texture and its sampler. Returns the declarations
    /// and sidecar bindings (numbered from `binding`).
    pub fn texture_param(
        &mut self,
        p: &cudalens_syntax::model::Param,
        index: usize,
        binding: u32,
        body: Option<&Stmt>,
    ) -> TextureBinding {
        let Some(body) = body else {
            return TextureBinding::Bound(Vec::new());
        };
        let u = match texture_use(self.m.model, body, &p.name) {
            Ok(u) => u,
            Err(msg) => {
                self.m.error(p.name_span, msg);
                return TextureBinding::Bound(Vec::new());
            }
        };
        match u {
            TexUse::Fetch(elem) => {
                // `tex1Dfetch<float>` also reads 8/16-bit memory as
                // normalized floats when the host's descriptor says so; a
                // `float` buffer cannot reproduce that, and which texture
                // the descriptor makes is not known here.
                let float_elem = matches!(
                    map_value_type(
                        &self.subst_type(&crate::functions::parse_ctype(&elem)),
                        &self.m.model.types,
                        self.m.opts,
                    ),
                    Ok(Ty::Scalar(Scalar::F32) | Ty::Vector(Scalar::F32, _))
                );
                if float_elem && host_reads_normalized_floats(self.m.model) {
                    self.m.error(
                        p.name_span,
                        format!(
                            "texture object `{}` is read with `tex1Dfetch<{elem}>` and this file's host code creates a texture with `cudaReadModeNormalizedFloat`: if it is this one, its linear memory holds narrower integers read as normalized floats, which a `{elem}` buffer would not reproduce",
                            p.name
                        ),
                    );
                    return TextureBinding::Bound(Vec::new());
                }
                // Linear memory read by index as its element type
                // (`cudaReadModeElementType`): exactly a `const T*` buffer,
                // which the caller binds as it binds one.
                TextureBinding::Buffer(cudalens_syntax::model::Param {
                    name: p.name.clone(),
                    name_span: p.name_span,
                    ty: CType {
                        base: elem,
                        pointer: 1,
                        is_const: true,
                        ..CType::default()
                    },
                    dims: Vec::new(),
                    default: None,
                })
            }
            TexUse::Sample(dim, elems) => {
                let samples = |e: &String| {
                    let ty = map_value_type(
                        &self.subst_type(&crate::functions::parse_ctype(e)),
                        &self.m.model.types,
                        self.m.opts,
                    );
                    ty.is_ok_and(|t| sampled_swizzle(&t).is_some())
                };
                if let Some(elem) = elems.iter().find(|e| !samples(e)) {
                    self.m.error(
                        p.name_span,
                        format!("texture object `{}`: reads of `{elem}` elements are not supported (WGSL samples float textures: float, float2, float4)", p.name),
                    );
                    return TextureBinding::Bound(Vec::new());
                }
                let elem = elems.join("/");
                let wgsl = self.m.module_name(&p.name);
                let sampler = self.m.module_name(&format!("{}_sampler", p.name));
                let normalized = self.m.module_name(&format!("TEX_NORMALIZED_{}", p.name));
                self.names.reserve(&wgsl);
                self.names.reserve(&sampler);
                self.names.reserve(&normalized);
                self.declare(
                    &p.name,
                    Sym::Texture {
                        wgsl: wgsl.clone(),
                        sampler: sampler.clone(),
                        normalized: normalized.clone(),
                        dim,
                    },
                );
                let texture_decl = Decl::override_(normalized.clone(), "bool", "false")
                    .documented(&format!(
                        "Texture object `{}` (CUDA `{}<{elem}>`): coordinates are unnormalized unless the\nhost's descriptor sets normalizedCoords (then set {normalized}).{}",
                        p.name,
                        match dim {
                            TexDim::D1 => "tex1D",
                            TexDim::D2 => "tex2D",
                            TexDim::D3 => "tex3D",
                            TexDim::D2Array => "tex2DLayered",
                            TexDim::Cube => "texCubemap",
                        },
                        if dim == TexDim::D1 {
                            "\nA 1-D CUDA array: bind it as a 2-D texture of height 1."
                        } else {
                            ""
                        },
                    ));
                let texture_var = Decl::var(Space::Handle, wgsl.clone(), dim.wgsl()).bound(binding);
                let sampler_decl = Decl::var(Space::Handle, sampler.clone(), "sampler")
                    .bound(binding + 1)
                    .noted(format!("filtering and addressing of `{}`", p.name));
                let texture = SidecarBinding {
                    group: 0,
                    binding,
                    name: wgsl.clone(),
                    kind: BindingKind::Texture,
                    element: Some(dim.wgsl().to_string()),
                    param_index: Some(index),
                    size: None,
                    fields: Vec::new(),
                    length: None,
                    initial: None,
                    member_of: None,
                    layout: None,
                };
                let sampler_binding = SidecarBinding {
                    binding: binding + 1,
                    name: sampler,
                    kind: BindingKind::Sampler,
                    element: None,
                    ..texture.clone()
                };
                TextureBinding::Bound(vec![
                    (texture_decl, None),
                    (texture_var, Some(texture)),
                    (sampler_decl, Some(sampler_binding)),
                ])
            }
        }
    }

    /// A file-scope texture reference (`texture<float, 1,
    /// cudaReadModeElementType> t;`, bound by the host to linear memory
    /// with `cudaBindTexture`) read with `tex1Dfetch(t, i)`: a read-only
    /// storage buffer of its element type, sized by the runner as a
    /// parameter's buffer. Other texture references are refused.
    pub fn texture_reference(
        &mut self,
        g: &cudalens_syntax::ir::VarDecl,
        body: &Stmt,
    ) -> Option<Sym> {
        let name = &g.name;
        let args = &g.ty.template_args;
        let elem = args.first().map(|e| e.trim().to_string());
        let dim = args.get(1).map_or("1", |d| d.trim());
        let mode = args.get(2).map_or("cudaReadModeElementType", |m| m.trim());
        let mut fetches = 0usize;
        let mut named = 0usize;
        let mut other: Option<String> = None;
        body.walk_exprs(&mut |e| match &e.kind {
            ExprKind::Ident(n) if n == name => named += 1,
            ExprKind::Call(call) if call.args.first().and_then(|a| a.as_ident()) == Some(name) => {
                let callee = call.callee.trim_start_matches("::");
                if callee == "tex1Dfetch" {
                    fetches += 1;
                } else {
                    other.get_or_insert_with(|| callee.to_string());
                }
            }
            _ => {}
        });
        let spelled = format!("texture<{}>", args.join(", "));
        let refuse = |why: String| format!("texture reference `{name}` (`{spelled}`): {why}");
        let problem = if let Some(c) = other {
            Some(refuse(format!(
                "`{c}` is not supported (texture references are supported when read with tex1Dfetch)"
            )))
        } else if dim != "1" || mode != "cudaReadModeElementType" {
            Some(refuse("only 1-D texture references read as their element type (`cudaReadModeElementType`) are supported".into()))
        } else if named > fetches {
            Some(refuse("used other than through tex1Dfetch".into()))
        } else {
            None
        };
        if let Some(p) = problem {
            self.m.error(g.name_span, p);
            return None;
        }
        let elem_ty = CType::named(elem.as_deref().unwrap_or("float"));
        let elem = self.map_type(&elem_ty, g.name_span);
        match &elem {
            Ty::Error => return None,
            Ty::Scalar(Scalar::F32 | Scalar::I32 | Scalar::U32) => {}
            Ty::Vector(Scalar::F32 | Scalar::I32 | Scalar::U32, 2 | 4) => {}
            _ => {
                self.m.error(
                    g.name_span,
                    refuse(format!(
                        "`{}` elements are not supported (32-bit scalars and 2- or 4-vectors are)",
                        elem_ty.display()
                    )),
                );
                return None;
            }
        }
        let wgsl = self.m.module_name(name);
        self.names.reserve(&wgsl);
        let ty = Ty::RuntimeArray(Box::new(elem.clone()));
        let decl = Decl::var(Space::Storage { write: false }, wgsl.clone(), ty.wgsl()).noted(
            format!("texture reference `{name}`, read with tex1Dfetch: its linear memory"),
        );
        let sym = Sym::Array {
            wgsl: wgsl.clone(),
            ty,
            mutable: false,
            atomic: None,
            module_scope: true,
        };
        self.m
            .device_globals
            .push(crate::context::DeviceGlobal::storage(
                name,
                wgsl,
                sym.clone(),
                decl,
                elem.wgsl(),
                None,
                None,
            ));
        Some(sym)
    }

    /// A read of a texture object (`tex1Dfetch`, `tex2D`, ...); `None` when
    /// `name` is no texture read of a bound texture object.
    pub fn texture_call(
        &mut self,
        name: &str,
        template_args: &[String],
        args: &[Expr],
        span: Span,
        out: &mut Vec<WStmt>,
    ) -> Option<Val> {
        if !name.starts_with("tex") {
            return None;
        }
        let object = args.first()?.as_ident()?;
        let sym = self.lookup(object)?.clone();
        match (name, sym) {
            ("tex1Dfetch", Sym::Array { .. } | Sym::Pointer { .. }) => {
                if args.len() != 2 {
                    return Some(self.error(
                        span,
                        format!("`tex1Dfetch` expects 2 argument(s), got {}", args.len()),
                    ));
                }
                let index = Expr {
                    kind: ExprKind::Index(Box::new(args[0].clone()), Box::new(args[1].clone())),
                    span,
                    from_macro: args[0].from_macro,
                };
                Some(self.expr(&index, out))
            }
            (
                _,
                Sym::Texture {
                    wgsl,
                    sampler,
                    normalized,
                    dim,
                },
            ) => {
                let call_dim = TexDim::of_call(name)?;
                // Through typedefs and the template arguments of a device
                // function the texture was passed to (`tex2D<R>`).
                let elem = template_args.first().map(|t| {
                    let c = self.subst_type(&crate::functions::parse_ctype(t));
                    map_value_type(&c, &self.m.model.types, self.m.opts)
                });
                let Some((ty, swizzle)) = elem
                    .and_then(Result::ok)
                    .and_then(|t| sampled_swizzle(&t).map(|s| (t, s)))
                else {
                    return Some(self.error(
                        span,
                        format!("`{name}` on the texture object `{object}` needs a float element type (`{name}<float>`, `float2`, `float4`)"),
                    ));
                };
                let layered = usize::from(dim == TexDim::D2Array);
                let want = 1 + dim.coords() + layered;
                if call_dim != dim || args.len() != want {
                    return Some(self.error(
                        span,
                        format!("`{name}` on the texture object `{object}` expects {want} argument(s), got {}", args.len()),
                    ));
                }
                let mut coords = Vec::new();
                for a in &args[1..=dim.coords()] {
                    let v = self.expr(a, out);
                    coords.push(self.convert(v, &Ty::F32, a.span).expr);
                }
                let n = dim.coords();
                let texture = || WExpr::name(&wgsl);
                let size = || WExpr::call("textureDimensions", vec![texture()]);
                // Scaled to [0, 1] unless the object reads normalized
                // coordinates (an override the runner sets).
                let scaled = |p: WExpr, size: WExpr| {
                    let unit = WExpr::binary(p.clone(), "/", size);
                    WExpr::call("select", vec![unit, p, WExpr::name(&normalized)])
                };
                let at = match dim {
                    // Row 0 of the height-1 texture that holds the 1-D array.
                    TexDim::D1 => {
                        let x = Val::atom(coords.remove(0), Ty::F32);
                        let x = self.materialize(x, "coord", out);
                        let width = WExpr::call("f32", vec![WExpr::member(size(), "x")]);
                        let x = scaled(x.expr, width);
                        WExpr::call("vec2<f32>", vec![x, WExpr::literal("0.5")])
                    }
                    // A cube map is read with a direction: nothing to scale.
                    TexDim::Cube => WExpr::call(format!("vec{n}<f32>"), coords),
                    _ => {
                        let point = WExpr::call(format!("vec{n}<f32>"), coords);
                        let point = self.materialize(
                            Val::atom(point, Ty::Vector(Scalar::F32, n as u8)),
                            "coord",
                            out,
                        );
                        let size = WExpr::call(format!("vec{n}<f32>"), vec![size()]);
                        scaled(point.expr, size)
                    }
                };
                let mut sample = vec![texture(), WExpr::name(&sampler), at];
                if dim == TexDim::D2Array {
                    let layer = self.expr(&args[3], out);
                    sample.push(self.convert(layer, &Ty::I32, args[3].span).expr);
                }
                sample.push(WExpr::literal("0.0"));
                let sampled = WExpr::call("textureSampleLevel", sample);
                let value = match swizzle.strip_prefix('.') {
                    Some(lanes) => WExpr::member(sampled, lanes),
                    None => sampled,
                };
                Some(Val::atom(value, ty))
            }
            _ => None,
        }
    }
}
