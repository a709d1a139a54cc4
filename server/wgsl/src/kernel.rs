//! One kernel → one WGSL module: template instantiation, launch shape,
//! bindings, the entry point's prologue (folded grids, builtins), and the
//! module text in a fixed, readable order.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use cudalens_syntax::FileModel;
use cudalens_syntax::Span;
use cudalens_syntax::ir::Type as CType;
use cudalens_syntax::model::{Function, TemplateParamKind};
use cudalens_syntax::types::normalize_base;

use crate::analysis::Analysis;
use crate::bindings::{
    BLOCKS_PER_WORKGROUP_OVERRIDE, BindingKind, GRID_DIM_FIELD, GRID_DIM_MEMBER,
    GRID_LAYOUT_OVERRIDE, Sidecar, SidecarBinding, UniformField, layout_uniform,
};
use crate::context::{AtomicRepr, BuiltinUses, FnLower, Module, PtrVal, Sym, Val};
use crate::decl::{Decl, EntryBuiltin, FunctionHeader, Item, Member, Param, Space};
use crate::diag::TranspileDiagnostic;
use crate::emit::WStmt;
use crate::names::wgsl_ident;
use crate::stmt::storage_type;
use crate::types::{Konst, Scalar, Ty};
use crate::uniformity;
use crate::validate::{Needs, Rejection};
use crate::wexpr::WExpr;
use crate::{SourceTexts, TranspileOptions, TranspileOutput};

/// Where the block size came from, for the header comment.
enum BlockSource {
    Option,
    Launch,
    LaunchBounds,
    Default,
}

pub fn compile_kernel(
    model: &FileModel,
    texts: &SourceTexts<'_>,
    kernel: &str,
    opts: &TranspileOptions,
) -> Result<TranspileOutput, Vec<TranspileDiagnostic>> {
    compile_kernel_recording(model, texts, kernel, opts, &mut Vec::new())
}

/// How many times a kernel is compiled again with the class template
/// instances the previous compilation asked for (an instance's members may
/// use more).
const INSTANCE_ROUNDS: usize = 3;

/// [`compile_kernel`], also reporting the spans of the loops it unrolled
/// (filled even when the kernel has errors elsewhere).
pub fn compile_kernel_recording(
    model: &FileModel,
    texts: &SourceTexts<'_>,
    kernel: &str,
    opts: &TranspileOptions,
    unrolled: &mut Vec<Span>,
) -> Result<TranspileOutput, Vec<TranspileDiagnostic>> {
    let mut with_instances: Option<FileModel> = None;
    let mut round = 0;
    let mut asked: Vec<(String, Vec<String>)> = Vec::new();
    // An instance's struct is named as written in what the user reads.
    let as_written = |result: Result<TranspileOutput, Vec<TranspileDiagnostic>>,
                      asked: &[(String, Vec<String>)]| {
        result.map_err(|mut diags| {
            for (class, args) in asked {
                let name = cudalens_syntax::model::class_instances::instance_name(class, args);
                let written = format!("`{class}<{}>`", args.join(", "));
                for d in &mut diags {
                    d.message = d.message.replace(&format!("`{name}`"), &written);
                }
            }
            diags
        })
    };
    loop {
        let current = with_instances.as_ref().unwrap_or(model);
        let mut requests = std::collections::BTreeSet::new();
        let result = compile_once(current, texts, kernel, opts, unrolled, &mut requests);
        let requests: Vec<(String, Vec<String>)> = requests.into_iter().collect();
        asked.extend(requests.iter().cloned());
        if result.is_ok() || requests.is_empty() || round == INSTANCE_ROUNDS {
            return as_written(result, &asked);
        }
        let next = current.with_class_instances(&requests);
        if next.types.structs.len() == current.types.structs.len() {
            // None could be built: the errors stand.
            return as_written(result, &asked);
        }
        with_instances = Some(next);
        round += 1;
    }
}

/// One compilation of `kernel` against `model`; `requests` receives the
/// class template instances it used that `model` lacks.
fn compile_once(
    model: &FileModel,
    texts: &SourceTexts<'_>,
    kernel: &str,
    opts: &TranspileOptions,
    unrolled: &mut Vec<Span>,
    requests: &mut std::collections::BTreeSet<(String, Vec<String>)>,
) -> Result<TranspileOutput, Vec<TranspileDiagnostic>> {
    let definitions = crate::kernel_definitions(model, kernel);
    let chosen = match &opts.definition {
        Some(d) => definitions.iter().find(|f| d.is(f)),
        None => definitions.first(),
    };
    let Some(&definition) = chosen else {
        return Err(vec![TranspileDiagnostic::error(
            Span::new(0, 0),
            format!("no `__global__` kernel named `{kernel}` with a body in this file"),
        )]);
    };
    // A barrier after a thread-dependent `return`: the return becomes a
    // flag where that keeps the meaning (`early_exit.rs`), checked again.
    // A pointer chosen between two buffers: what follows is lowered once
    // for each (`pointer_choice.rs`).
    let split = crate::pointer_choice::rewrite(model, definition);
    let f = split.as_ref().unwrap_or(definition);
    let mut refusals = uniformity::divergent_barriers(model, f, texts);
    let rewritten;
    let mut early_returns = Vec::new();
    let mut guarded_block = None;
    let f = match refusals.is_empty() {
        true => f,
        false => {
            let uniform = |g: &Function| uniformity::divergent_barriers(model, g, texts).is_empty();
            if let Some((g, returns)) =
                crate::early_exit::rewrite(model, f).filter(|(g, _)| uniform(g))
            {
                rewritten = g;
                refusals.clear();
                early_returns = returns;
                &rewritten
            } else if let Some((g, condition)) =
                crate::early_exit::rewrite_guarded_block(model, f).filter(|(g, _)| uniform(g))
            {
                rewritten = g;
                refusals.clear();
                guarded_block = Some(condition);
                &rewritten
            } else {
                f
            }
        }
    };
    let mut m = Module {
        model,
        class_requests: Default::default(),
        texts,
        opts,
        diags: Vec::new(),
        structure: Default::default(),
        bodies: Vec::new(),
        needs: Needs::default(),
        uses: BuiltinUses::default(),
        analysis: Analysis::new(model),
        writes_storage: false,
        barriers: false,
        workgroup_vars: Vec::new(),
        null_overrides: Default::default(),
        dynamic_shared: None,
        dynamic_shared_array: None,
        helpers: BTreeSet::new(),
        functions: Vec::new(),
        specializations: HashMap::new(),
        specialization_errors: HashMap::new(),
        member_operators: (model.functions.iter())
            .filter_map(|f| {
                f.name
                    .rsplit_once("::operator")
                    .map(|(_, op)| op.to_string())
            })
            .collect(),
        in_progress: HashSet::new(),
        module_names: HashSet::new(),
        shared_vars: HashMap::new(),
        dynamic_shared_default_bytes: 0,
        unrolled_loops: Vec::new(),
        block: [1; 3],
        kernel_effects: Default::default(),
        device_globals: Vec::new(),
        module_consts: Vec::new(),
        failed_globals: HashSet::new(),
        structs: Default::default(),
        // A kernel of a header (`--included`) reports in that header.
        line_tables: HashMap::new(),
        current_file: f.file.clone(),
    };
    m.analysis.pin_kernel(f);
    let (block, block_source) = block_size(model, f, opts);
    m.block = block;
    let launch = crate::instantiate::launches_for(model, f).next();
    m.dynamic_shared_default_bytes = launch
        .and_then(|l| l.smem_bytes)
        .filter(|b| *b > 0)
        .map(|b| b as u64)
        .unwrap_or(u64::from(block[0] * block[1] * block[2]) * 4);

    let effects = m.analysis.effects(kernel);
    m.kernel_effects = effects.clone();
    for (span, msg) in std::mem::take(&mut m.analysis.recursion) {
        m.error(span, msg);
    }
    m.diags.extend(refusals);
    if let Some(condition) = guarded_block {
        m.warning(
            condition,
            "this condition depends on the thread and the block it guards holds a barrier (undefined in CUDA unless every thread of the block takes it alike; on the GPU the threads that skip it run past and no longer hold its barriers back): the barriers are moved out of the block, the threads that skip it wait at them doing nothing, and the work inside is guarded by a flag",
        );
    }
    for r in early_returns {
        m.warning(
            r,
            "threads that take this `return` skip the rest of the kernel but still arrive at its later barriers (WGSL needs every barrier in uniform control flow; on the GPU a thread that has exited no longer holds a barrier back): the work after it is guarded by a flag",
        );
    }
    // Threads of a block can only communicate through global memory when some
    // buffer is both written and read by the kernel: only then does
    // `__syncthreads()` need a storage barrier too (it costs 2-3x on an H100).
    let read = buffers_read(f);
    m.writes_storage = f.params.iter().any(|p| {
        p.ty.pointer > 0
            && (effects.written.contains(&p.name) || effects.atomic.contains(&p.name))
            && read.contains(&p.name)
    }) || model.globals.iter().any(|g| {
        // A written file-scope `__device__` variable (a storage binding), read
        // anywhere: conservatively, barriers order storage too.
        !g.shared && !f.params.iter().any(|p| p.name == g.name) && effects.written.contains(&g.name)
    });
    warn_volatile(&mut m, f);
    for reserved in ["params", "Params"] {
        m.module_names.insert(reserved.to_string());
    }
    let entry_name = m.module_name(kernel);

    let mut lower = FnLower::new(&mut m, kernel, f.body.as_deref(), true);
    // Template arguments first: a variable template (`T mask[N]`) the
    // kernel names takes the kernel's `T`.
    let instantiation = bind_template(&mut lower, f, opts);
    lower.declare_device_globals(&f.params, f.body.as_deref());

    // Parameters: pointers → storage bindings, scalars → the uniform struct.
    let mut bindings = Vec::new();
    let mut binding_decls = Vec::new();
    let mut uniform_members = Vec::new();
    let mut param_prologue = Vec::new();
    for (index, p) in f.params.iter().enumerate() {
        if f.params[..index].iter().any(|q| q.name == p.name) {
            lower
                .m
                .error(p.name_span, format!("duplicate parameter `{}`", p.name));
            continue;
        }
        if crate::types::is_texture_object(&p.ty) {
            let next = bindings.len() as u32;
            match lower.texture_param(p, index, next, f.body.as_deref()) {
                crate::textures::TextureBinding::Buffer(as_buffer) => {
                    if let Some((decl, binding)) =
                        storage_param(&mut lower, &as_buffer, index, next, &effects)
                    {
                        binding_decls.push(decl.documented(&format!(
                            "Texture object `{}` read with tex1Dfetch: its linear memory, elements read as stored (cudaReadModeElementType).",
                            p.name
                        )));
                        bindings.push(binding);
                    }
                }
                crate::textures::TextureBinding::Bound(bound) => {
                    for (decl, binding) in bound {
                        binding_decls.push(decl);
                        bindings.extend(binding);
                    }
                }
            }
            continue;
        }
        if p.ty.pointer > 0 {
            let Some((decl, binding)) =
                storage_param(&mut lower, p, index, bindings.len() as u32, &effects)
            else {
                continue;
            };
            binding_decls.push(decl);
            bindings.push(binding);
        } else {
            // An 8- or 16-bit scalar or vector (`uchar4`): an `i32` (`vec4<i32>`)
            // member, narrowed on load (the runner writes what it is given)
            // and on every store.
            let narrow_ty = lower.subst_type(&p.ty);
            if narrow_ty.pointer == 0
                && let Some(k) = lower.packed_of(&narrow_ty, false)
                && !k.boolean
            {
                let member = wgsl_ident(&p.name);
                let local = lower.local_name(&p.name);
                let ty = k.value_type();
                let load = lower.narrow(
                    Val::atom(WExpr::member(WExpr::name("params"), &member), ty.clone()),
                    k,
                    p.name_span,
                );
                let decl = WStmt::decl("var", local.clone(), Some(ty.wgsl()), Some(load.expr));
                param_prologue.push(decl.noted(k.describe()));
                lower.declare(
                    &p.name,
                    Sym::Array {
                        wgsl: local,
                        ty: ty.clone(),
                        mutable: true,
                        atomic: Some(AtomicRepr::Narrow(k)),
                        module_scope: false,
                    },
                );
                uniform_members.push((member, p.name.clone(), ty, Some(index)));
                continue;
            }
            let ty = lower.map_type(&p.ty, p.name_span);
            if !ty.is_value() || ty == Ty::Error {
                continue;
            }
            if let Ty::Struct(name) = &ty {
                // A stateless functor passed by value (`AvgPoolGrad<float>
                // pool_process`): nothing to pass, a local of its own.
                let empty =
                    (lower.m.model.types.structs.get(name)).is_some_and(|s| s.fields.is_empty());
                if empty {
                    let local = lower.m.module_name(&p.name);
                    lower.names.reserve(&local);
                    param_prologue.push(
                        WStmt::decl("var", local.clone(), Some(ty.wgsl()), None)
                            .noted(format!("`{}`: an empty struct, nothing passed", p.name)),
                    );
                    lower.declare(
                        &p.name,
                        Sym::Value {
                            wgsl: local,
                            ty: ty.clone(),
                            mutable: true,
                        },
                    );
                    continue;
                }
                // The argument's bytes in a read-only storage buffer of one
                // struct: C's layout, which the uniform block cannot keep.
                if let Err(e) =
                    crate::types::host_shareable(&ty, &lower.m.model.types, lower.m.opts)
                {
                    lower.m.error(
                        p.name_span,
                        format!("struct `{name}` passed by value to the kernel: {e}"),
                    );
                    continue;
                }
                let binding = bindings.len() as u32;
                let wgsl = lower.m.module_name(&p.name);
                lower.names.reserve(&wgsl);
                binding_decls.push(
                    Decl::var(Space::Storage { write: false }, wgsl.clone(), ty.wgsl())
                        .bound(binding)
                        .documented(&format!(
                            "`{}`: a struct passed by value, its bytes as the host passes them (C's layout).",
                            p.name
                        )),
                );
                bindings.push(SidecarBinding {
                    group: 0,
                    binding,
                    name: wgsl.clone(),
                    kind: BindingKind::StorageRead,
                    element: Some(ty.wgsl()),
                    param_index: Some(index),
                    size: None,
                    fields: Vec::new(),
                    length: Some(1),
                    initial: None,
                    member_of: None,
                    layout: None,
                });
                if lower.assigned.contains(&p.name) {
                    // C's parameter is the kernel's own copy.
                    let local = lower.local_name(&p.name);
                    param_prologue.push(WStmt::decl(
                        "var",
                        local.clone(),
                        Some(ty.wgsl()),
                        Some(crate::wexpr::WExpr::ident(wgsl)),
                    ));
                    lower.declare(
                        &p.name,
                        Sym::Value {
                            wgsl: local,
                            ty,
                            mutable: true,
                        },
                    );
                } else {
                    lower.declare(
                        &p.name,
                        Sym::Array {
                            wgsl,
                            ty,
                            mutable: false,
                            atomic: None,
                            module_scope: true,
                        },
                    );
                }
                continue;
            }
            let member = wgsl_ident(&p.name);
            let stored = if ty == Ty::BOOL { Ty::U32 } else { ty.clone() };
            let local = lower.local_name(&p.name);
            let assigned = lower.assigned.contains(&p.name);
            let load = WExpr::member(WExpr::name("params"), member.clone());
            let load = if ty == Ty::BOOL {
                WExpr::binary(load, "!=", WExpr::literal("0u"))
            } else {
                load
            };
            let keyword = if assigned { "var" } else { "let" };
            param_prologue.push(WStmt::decl(
                keyword,
                local.clone(),
                Some(ty.wgsl()),
                Some(load),
            ));
            lower.declare(
                &p.name,
                Sym::Value {
                    wgsl: local,
                    ty,
                    mutable: assigned,
                },
            );
            uniform_members.push((member, p.name.clone(), stored, Some(index)));
        }
    }
    param_prologue.extend(std::mem::take(&mut lower.pending_prologue));
    uniform_members.push((
        GRID_DIM_MEMBER.to_string(),
        GRID_DIM_FIELD.to_string(),
        Ty::Vector(Scalar::U32, 3),
        None,
    ));
    let (members, uniform_size) = layout_uniform(uniform_members);

    let mut body = Vec::new();
    if let Some(b) = &f.body
        && !lower.m.refuse_unparsed(f)
    {
        lower.stmt_flat(b, &mut body);
    }
    drop(lower);
    unrolled.clone_from(&m.unrolled_loops);

    if m.diags.iter().any(|d| d.is_error()) {
        *requests = std::mem::take(&mut m.class_requests);
        return Err(m.diags);
    }

    // ---- assemble the module ------------------------------------------------
    // Each declaration is data (`decl.rs`), printed here with its comments
    // and built from the same value (`build.rs`).
    let mut out = crate::decl::Assembly::default();
    // File-scope variables bind after the parameters, in the order first used.
    let mut global_decls = Vec::new();
    let member_buffers = m
        .device_globals
        .iter()
        .any(|g| g.binding.member_of.is_some());
    for g in std::mem::take(&mut m.device_globals) {
        let mut binding = g.binding;
        binding.binding = bindings.len() as u32;
        global_decls.push(g.decl.bound(binding.binding));
        bindings.push(binding);
    }
    let uniform_binding = bindings.len() as u32;
    let file = opts.source_name.as_deref().unwrap_or("<source>");
    out.write(&format!(
        "// Generated by cudalens-wgsl from CUDA kernel `{kernel}` in {file}.\n"
    ));
    if !instantiation.is_empty() {
        out.write(&format!(
            "// Template instantiation: {kernel}<{}>.\n",
            instantiation.join(", ")
        ));
    }
    let source_note = match block_source {
        BlockSource::Option => "the transpile options",
        BlockSource::Launch => "the kernel's first launch in this file",
        BlockSource::LaunchBounds => "`__launch_bounds__`",
        BlockSource::Default => "the default (no launch found)",
    };
    out.write(&format!(
        "// Block size {}x{}x{} from {source_note}; override BLOCK_DIM_* to change it.\n\n",
        block[0], block[1], block[2]
    ));
    if m.needs.f16 {
        out.write("enable f16;\n\n");
    }
    for (axis, v) in ["X", "Y", "Z"].iter().zip(block) {
        out.put(Decl::override_(
            format!("BLOCK_DIM_{axis}"),
            "u32",
            format!("{v}u"),
        ));
    }
    let mergeable = blocks_can_share_workgroup(&m);
    out.put(Decl::override_(GRID_LAYOUT_OVERRIDE, "u32", "2u").documented(GRID_LAYOUT_DOC));
    if mergeable {
        out.put(
            Decl::override_(BLOCKS_PER_WORKGROUP_OVERRIDE, "u32", "1u").documented(
                "CUDA blocks per workgroup (set by the runner for small 1D blocks; this kernel has no\nshared memory, barriers or warp operations, so blocks sharing a workgroup cannot interact).",
            ),
        );
    }
    for (param, name) in &m.null_overrides {
        out.put(Decl::override_(name.clone(), "bool", "false").documented(&format!(
            "Whether the host passed NULL for `{param}` (set by the runner; a bound buffer otherwise)."
        )));
    }
    if let Some((name, default, _)) = &m.dynamic_shared {
        out.put(
            Decl::override_(name.clone(), "u32", format!("{default}u")).documented(
                "Elements of the `extern __shared__` array (set from the launch's dynamic shared memory).",
            ),
        );
    }
    for decl in std::mem::take(&mut m.structs).into_values() {
        out.write("\n");
        out.put(decl);
    }
    out.write("\n");
    out.put(
        Decl::new(Item::Struct {
            name: "Params".into(),
            members: (members.iter())
                .map(|mem| Member {
                    name: mem.member.clone(),
                    ty: mem.stored.wgsl(),
                    note: None,
                })
                .collect(),
        })
        .documented("Scalar kernel parameters, and the CUDA grid size (filled by the runner)."),
    );
    out.write("\n");
    for decl in binding_decls {
        out.put(decl);
    }
    if !global_decls.is_empty() {
        out.write(if member_buffers {
            "// File-scope `__constant__`/`__device__` variables (filled by the runner from\n// their initialisers, or as the host fills them), and what pointer members of\n// struct arguments point at.\n"
        } else {
            "// File-scope `__constant__`/`__device__` variables (filled by the runner from\n// their initialisers, or as the host fills them).\n"
        });
        for decl in global_decls {
            out.put(decl);
        }
    }
    out.put(Decl::var(Space::Uniform, "params", "Params").bound(uniform_binding));
    if !m.module_consts.is_empty() {
        out.write("\n");
        for (_, _, decl) in &m.module_consts {
            out.put(decl.clone());
        }
    }
    if !m.workgroup_vars.is_empty() {
        out.write("\n");
        for w in std::mem::take(&mut m.workgroup_vars) {
            out.put(w);
        }
    }
    let privates = private_decls(&m.uses, m.opts.subgroup_size);
    if !privates.is_empty() {
        out.write("\n// CUDA builtins, visible to device functions too.\n");
        for p in privates {
            out.put(p);
        }
    }
    for (_, helper) in &m.helpers {
        out.helper(helper);
    }
    for f in std::mem::take(&mut m.functions) {
        out.write("\n");
        out.function(f);
    }
    let blocks_x = if mergeable {
        WExpr::binary(
            WExpr::name("BLOCK_DIM_X"),
            "*",
            WExpr::name(BLOCKS_PER_WORKGROUP_OVERRIDE),
        )
    } else {
        WExpr::name("BLOCK_DIM_X")
    };
    let builtin = |b: EntryBuiltin, name: &str, ty: &str| Param {
        builtin: Some(b),
        name: name.into(),
        ty: ty.into(),
    };
    let mut entry_params = vec![
        builtin(EntryBuiltin::LocalInvocationId, "local_id", "vec3<u32>"),
        builtin(EntryBuiltin::WorkgroupId, "workgroup_id", "vec3<u32>"),
        builtin(EntryBuiltin::NumWorkgroups, "num_workgroups", "vec3<u32>"),
    ];
    // The subgroup builtins need the capability even when no subgroup
    // operation does (`warpSize` alone, as llm.c's matmul_backward_bias_kernel4).
    if m.uses.warp_size && m.opts.subgroup_size.is_none() {
        entry_params.push(builtin(
            EntryBuiltin::SubgroupSize,
            "subgroup_size_in",
            "u32",
        ));
        m.needs.subgroups = true;
    }
    // naga refuses `subgroup_invocation_id` once the workgroup is more than
    // one row (its pipeline creation fails): there the lane is the thread's
    // rank in its subgroup, which the prologue computes with every thread
    // active.
    let lane_by_rank = block[1] > 1 || block[2] > 1;
    if m.uses.lane_id {
        if !lane_by_rank {
            entry_params.push(builtin(
                EntryBuiltin::SubgroupInvocationId,
                "subgroup_lane_in",
                "u32",
            ));
        }
        m.needs.subgroups = true;
    }
    let entry = Decl::new(Item::Function(FunctionHeader {
        name: entry_name.clone(),
        params: entry_params,
        result: None,
        workgroup_size: Some([
            blocks_x,
            WExpr::name("BLOCK_DIM_Y"),
            WExpr::name("BLOCK_DIM_Z"),
        ]),
    }));
    let mut stmts = entry_prologue(&m.uses, m.opts.subgroup_size, mergeable, lane_by_rank);
    stmts.extend(param_prologue);
    stmts.extend(body);
    m.structure.count(&stmts);
    out.write("\n");
    let (function, body) = crate::decl::print_function(entry, stmts);
    m.bodies.push(body);
    out.function(function);
    let crate::decl::Assembly {
        text,
        decls,
        prelude,
        origins,
    } = out;
    let source_map = crate::decl::source_map(&text, &origins);
    let decls = crate::build::ModuleDecls { prelude, decls };

    let checked = match crate::validate::check(&text) {
        Ok(checked) => checked,
        Err(Rejection::Invalid(msg)) => {
            m.current_file = f.file.clone();
            m.error(
                f.name_span,
                format!("internal compiler error: the generated WGSL for `{kernel}` does not validate (please report this):\n{msg}"),
            );
            return Err(m.diags);
        }
        Err(Rejection::NotPortable(msg)) => {
            m.current_file = f.file.clone();
            m.error(f.name_span, msg);
            return Err(m.diags);
        }
    };
    let needs = checked.needs;
    // The module needs no more than the target offers (the lowering refuses
    // what the options leave out; this catches any way around it).
    if let Some(feature) = needs.beyond(m.opts) {
        m.current_file = f.file.clone();
        m.error(
            f.name_span,
            format!("internal compiler error: the generated WGSL for `{kernel}` needs `{feature}`, which the target does not have (please report this)"),
        );
        return Err(m.diags);
    }

    let mut sidecar_bindings = bindings;
    sidecar_bindings.push(SidecarBinding {
        group: 0,
        binding: uniform_binding,
        name: "params".into(),
        kind: BindingKind::Uniform,
        element: None,
        param_index: None,
        size: Some(uniform_size),
        fields: members
            .iter()
            .map(|mem| UniformField {
                name: mem.sidecar_name.clone(),
                ty: mem.stored.wgsl(),
                offset: mem.offset,
                param_index: mem.param_index,
            })
            .collect(),
        length: None,
        initial: None,
        member_of: None,
        layout: None,
    });
    // Buffers of structs: each element's layout, for the runner to fill.
    let structs_by_wgsl: std::collections::HashMap<String, &String> =
        (m.model.types.structs.keys())
            .map(|c| (Ty::Struct(c.clone()).wgsl(), c))
            .collect();
    for b in &mut sidecar_bindings {
        if matches!(
            b.kind,
            BindingKind::StorageRead | BindingKind::StorageReadWrite
        ) && let Some(c) = b.element.as_ref().and_then(|e| structs_by_wgsl.get(e))
        {
            b.layout = crate::element_layout::of(&Ty::Struct((*c).clone()), &m.model.types, m.opts);
        }
    }
    let sidecar = Sidecar {
        source_kernel: kernel.to_string(),
        entry_point: entry_name,
        workgroup_size: block,
        workgroup_size_overrides: vec![
            "BLOCK_DIM_X".into(),
            "BLOCK_DIM_Y".into(),
            "BLOCK_DIM_Z".into(),
        ],
        dynamic_shared_override: m.dynamic_shared.as_ref().map(|(n, _, _)| n.clone()),
        dynamic_shared_element_bytes: m.dynamic_shared.as_ref().map(|(_, _, b)| *b),
        grid_layout_override: Some(GRID_LAYOUT_OVERRIDE.into()),
        blocks_per_workgroup_override: mergeable.then(|| BLOCKS_PER_WORKGROUP_OVERRIDE.into()),
        null_pointer_overrides: m.null_overrides.clone(),
        features: needs.feature_names(),
        bindings: sidecar_bindings,
        instantiation,
        source_map,
    };
    // The module the runner compiles: the one built directly from the
    // trees, when it is exactly the module of the text the user reads;
    // else (a symbol still holding text, a builder gap) the parsed one.
    let mut structure = m.structure;
    let (comparison, built) = crate::build::built_as_text(&decls, &checked, &m.bodies);
    let bodies = m.bodies;
    match comparison {
        crate::build::Comparison::Same => structure.built_same = 1,
        crate::build::Comparison::Differs => structure.built_differs = 1,
        crate::build::Comparison::Invalid(_) => structure.built_invalid = 1,
        crate::build::Comparison::NotBuilt(_) => structure.not_built = 1,
    }
    let module = crate::ShaderModule(std::sync::Arc::new(built.unwrap_or(checked.module)));
    Ok(TranspileOutput {
        wgsl: text,
        sidecar,
        warnings: m.diags,
        module,
        structure,
        bodies,
        decls,
    })
}

/// The launch's block size: options, first launch site, `__launch_bounds__`, 256.
fn block_size(model: &FileModel, f: &Function, opts: &TranspileOptions) -> ([u32; 3], BlockSource) {
    if let Some(b) = opts.block_override {
        return (b.map(|v| v.max(1)), BlockSource::Option);
    }
    let valid = |v: i64| u32::try_from(v).ok().filter(|v| (1..=1024).contains(v));
    if let Some(dims) =
        crate::instantiate::launches_for(model, f).find_map(|l| l.block_dims.resolved())
        && let (Some(x), Some(y), Some(z)) = (valid(dims[0]), valid(dims[1]), valid(dims[2]))
    {
        return ([x, y, z], BlockSource::Launch);
    }
    if let Some(max) = f
        .launch_bounds
        .as_ref()
        .and_then(|lb| lb.max_threads.as_ref())
        && let Some(n) = model.const_env().eval(max).and_then(|v| valid(v as i64))
    {
        return ([n, 1, 1], BlockSource::LaunchBounds);
    }
    ([256, 1, 1], BlockSource::Default)
}

/// Binds the kernel's template parameters (options, else the first launch
/// with template arguments, else defaults); returns the arguments for the header.
fn bind_template(lower: &mut FnLower, f: &Function, opts: &TranspileOptions) -> Vec<String> {
    if f.template_params.is_empty() {
        return Vec::new();
    }
    let model = lower.m.model;
    let written: Vec<String> = opts
        .instantiation
        .clone()
        .or_else(|| crate::instantiate::from_launches(model, lower.m.texts, f))
        .unwrap_or_default();
    let mut shown = Vec::new();
    for (i, tp) in f.template_params.iter().enumerate() {
        let Some(arg) = written.get(i).cloned().or_else(|| tp.default.clone()) else {
            lower.m.error(
                f.name_span,
                format!(
                    "template parameter `{}` has no argument: no launch in this file gives one; pick one (`cudalens transpile --instantiate`)",
                    tp.name
                ),
            );
            continue;
        };
        match &tp.kind {
            TemplateParamKind::Type => {
                let base = normalize_base(&arg);
                let ty = CType::named(&base);
                lower.template_types.insert(tp.name.clone(), ty);
                shown.push(base);
            }
            TemplateParamKind::Value(_) => {
                let value = lower.template_value(&arg).or_else(|| {
                    let expanded = model.macros.expand_text(&arg).ok()?;
                    lower
                        .template_value(expanded.trim_matches(|c| c == '(' || c == ')' || c == ' '))
                });
                match value {
                    Some(v) => {
                        let s = if i32::try_from(v).is_ok() {
                            Scalar::I32
                        } else {
                            Scalar::U32
                        };
                        lower.declare(&tp.name, Sym::Const(Val::konst(Konst::Int(v), s)));
                        shown.push(v.to_string());
                    }
                    None => {
                        lower.m.error(
                            f.name_span,
                            format!(
                                "template argument `{arg}` for `{}` is not a compile-time integer",
                                tp.name
                            ),
                        );
                    }
                }
            }
        }
    }
    shown
}

/// A pointer parameter as a storage binding.
fn storage_param(
    lower: &mut FnLower,
    p: &cudalens_syntax::model::Param,
    index: usize,
    binding: u32,
    effects: &crate::analysis::Effects,
) -> Option<(Decl, SidecarBinding)> {
    // `float w[6][5][5]`: a buffer of floats whose pointer steps by rows.
    let rows = lower.param_rows(p)?;
    if usize::from(p.ty.pointer) > 1 + rows.len() {
        lower.m.error(
            p.name_span,
            "pointers to pointers cannot be expressed in WGSL",
        );
        return None;
    }
    let pointee_cty = CType {
        pointer: p.ty.pointer - 1 - rows.len() as u8,
        ..p.ty.clone()
    };
    // 8- and 16-bit integers and `bool`: packed into `u32` words.
    let pointee = lower.subst_type(&pointee_cty);
    let packed = if pointee.pointer == 0 {
        lower.packed_of(&pointee, effects.written.contains(&p.name))
    } else {
        None
    };
    let elem = match packed {
        Some(k) => k.value_type(),
        None => lower.map_type(&pointee_cty, p.name_span),
    };
    if let Err(e) = crate::types::host_shareable(&elem, &lower.m.model.types, lower.m.opts) {
        lower.m.error(p.name_span, e);
        return None;
    }
    match &elem {
        Ty::Error => return None,
        _ if packed.is_some() => {}
        Ty::Scalar(Scalar::Bool) => {
            lower.m.error(
                p.name_span,
                "`bool` buffers are not host-shareable in WGSL: use int",
            );
            return None;
        }
        // `float3*`: WGSL's `array<vec3<f32>>` has a 16-byte stride, C's 12
        // bytes: bound as the scalars, each element read and written as its
        // three lanes (`AtomicRepr::Lanes`).
        Ty::Vector(_, 3) if effects.atomic.contains(&p.name) => {
            lower.m.error(
                p.name_span,
                "atomic operations on buffers of 3-component vectors are not supported",
            );
            return None;
        }
        Ty::Void => {
            lower
                .m
                .error(p.name_span, "`void*` buffers cannot be expressed in WGSL");
            return None;
        }
        _ => {}
    }
    let written = effects.written.contains(&p.name);
    let atomic = if let Some(k) = packed {
        if effects.atomic.contains(&p.name) {
            lower.m.error(
                p.name_span,
                "atomic operations on 8- or 16-bit (or `bool`) buffers are not supported",
            );
            return None;
        }
        Some(AtomicRepr::Packed(k))
    } else if effects.atomic.contains(&p.name) {
        // Integer atomics through a cast need the float's bits in `u32`s.
        let storage = !effects.bit_atomic.contains(&p.name);
        match lower.m.atomic_repr(&elem, storage) {
            Ok(repr) => Some(repr),
            Err(why) => {
                lower.m.error(p.name_span, why);
                None
            }
        }
    } else {
        None
    };
    let (atomic, stored) = match elem {
        Ty::Vector(s, 3) if packed.is_none() => (Some(AtomicRepr::Lanes(3)), Ty::Scalar(s)),
        _ => (atomic, elem.clone()),
    };
    let wgsl = lower.m.module_name(&p.name);
    let ty = Ty::RuntimeArray(Box::new(elem.clone()));
    let mut decl = Decl::var(
        Space::Storage { write: written },
        wgsl.clone(),
        storage_type(&Ty::RuntimeArray(Box::new(stored.clone())), atomic),
    )
    .bound(binding);
    if let (Ty::Vector(_, 3), None) = (&elem, packed) {
        decl = decl.noted(format!(
            "`{}` elements, three to an element (C's 12-byte stride)",
            elem.wgsl()
        ));
    }
    if let Some(k) = packed {
        decl = decl.noted(if k.is_word() {
            format!("{} elements, one to a word", k.describe())
        } else if k.lanes > 1 {
            format!(
                "{} elements: {} lanes of {} bits each, {} lanes to a word",
                k.describe(),
                k.lanes,
                k.bits,
                32 / k.bits
            )
        } else {
            format!("{} elements, {} to a word", k.describe(), 32 / k.bits)
        });
    }
    if !rows.is_empty() {
        if lower.assigned.contains(&p.name) {
            lower.m.error(
                p.name_span,
                "an array parameter that the kernel moves is not supported",
            );
            return None;
        }
        lower.declare(
            &p.name,
            Sym::Pointer {
                view: PtrVal {
                    rows,
                    ..PtrVal::module_array(wgsl.clone(), elem.clone(), atomic, written)
                },
                offset_var: None,
            },
        );
    } else if lower.assigned.contains(&p.name) {
        // The kernel moves this pointer (`x += offset`): track its offset.
        let var = lower.fresh(&format!("{wgsl}_offset"));
        lower.declare(
            &p.name,
            Sym::Pointer {
                view: PtrVal {
                    offset: Some(Box::new(Val::atom(var.clone(), Ty::I32))),
                    ..PtrVal::module_array(wgsl.clone(), elem.clone(), atomic, written)
                },
                offset_var: Some(var.clone()),
            },
        );
        lower.pending_prologue.push(WStmt::decl(
            "var",
            var.clone(),
            Some("i32".to_string()),
            Some(WExpr::literal("0")),
        ));
    } else {
        lower.declare(
            &p.name,
            Sym::Array {
                wgsl: wgsl.clone(),
                ty,
                mutable: written,
                atomic,
                module_scope: true,
            },
        );
    }
    // Atomically updated struct elements are the struct's bytes: the
    // runner fills them by the struct's layout.
    let element = match atomic {
        Some(AtomicRepr::Members { .. }) => stored.wgsl(),
        _ => storage_type(&stored, atomic),
    };
    Some((
        decl,
        SidecarBinding {
            group: 0,
            binding,
            name: wgsl,
            kind: if written {
                BindingKind::StorageReadWrite
            } else {
                BindingKind::StorageRead
            },
            element: Some(element),
            param_index: Some(index),
            size: None,
            fields: Vec::new(),
            length: None,
            initial: None,
            member_of: None,
            layout: None,
        },
    ))
}

fn private_decls(uses: &BuiltinUses, fixed_warp: Option<u32>) -> Vec<Decl> {
    let private = |name: &str, ty: &str| Decl::var(Space::Private, name, ty);
    let mut out = Vec::new();
    if uses.thread_idx {
        out.push(private("thread_idx", "vec3<u32>"));
    }
    if uses.block_idx {
        out.push(private("block_idx", "vec3<u32>"));
    }
    if uses.grid_dim {
        out.push(private("grid_dim", "vec3<u32>"));
    }
    match fixed_warp {
        // The adapter's one subgroup size: loops over warpSize get constant bounds.
        Some(width) if uses.warp_size => out.push(Decl::new(Item::Const {
            name: "warp_size".into(),
            ty: "i32".into(),
            init: WExpr::literal(width.to_string()),
        })),
        _ if uses.warp_size => out.push(private("warp_size", "i32")),
        _ => {}
    }
    if uses.lane_id {
        out.push(private("lane_id", "u32"));
    }
    out
}

const GRID_LAYOUT_DOC: &str = "How the runner laid the CUDA grid over the dispatch (an override, so the driver compiles\nonly the branch in use): 0 = the dispatch is the grid; 1 = a 1D grid spread linearly over\na folded (and, for small blocks, merged) dispatch; 2 = any grid folded into 2D/3D.";

/// Whether several CUDA blocks may run in one workgroup: nothing in the
/// kernel can observe which threads share its workgroup (no shared memory,
/// no barrier or fence, no subgroup operation: with blocks that are not a
/// multiple of the subgroup width a subgroup would span two blocks).
fn blocks_can_share_workgroup(m: &Module) -> bool {
    m.workgroup_vars.is_empty()
        && m.dynamic_shared.is_none()
        && !m.barriers
        && !m.needs.subgroups
        && !m.needs.subgroup_barrier
        && !m.uses.lane_id
        && !m.uses.warp_size
}

/// Recovers the CUDA block (and thread) from the dispatch, as the runner laid
/// it out (`GRID_LAYOUT`), and fills the builtin mirrors.
/// `lane_by_rank`: the lane id is the thread's rank among its subgroup's
/// threads (an exclusive sum of ones, in subgroup invocation order: the
/// invocation id when all are active, as here) instead of the builtin.
fn entry_prologue(
    uses: &BuiltinUses,
    fixed_warp: Option<u32>,
    merged: bool,
    lane_by_rank: bool,
) -> Vec<WStmt> {
    use crate::wexpr::WExpr as E;
    let name = |n: &str| E::name(n);
    let member = |base: &str, m: &str| E::member(E::name(base), m);
    let bin = E::binary;
    let assign = |target: &str, value: E| WStmt::assign(E::name(target), value);
    let vec3 = |lanes: [E; 3]| E::call("vec3<u32>", lanes.to_vec());
    let return_if = |cond: E| WStmt::If {
        cond,
        then: vec![WStmt::Return(None)],
        els: vec![],
    };
    let mut out = vec![WStmt::let_("cuda_grid", member("params", GRID_DIM_MEMBER))];
    let grid = |axis: &str| member("cuda_grid", axis);
    // The workgroup's linear index.
    let linear = bin(
        bin(
            member("workgroup_id", "x"),
            "+",
            bin(
                member("workgroup_id", "y"),
                "*",
                member("num_workgroups", "x"),
            ),
        ),
        "+",
        bin(
            bin(
                member("workgroup_id", "z"),
                "*",
                member("num_workgroups", "x"),
            ),
            "*",
            member("num_workgroups", "y"),
        ),
    );
    // Layout 0: the dispatch is the CUDA grid.
    let mut exact = Vec::new();
    if uses.thread_idx {
        exact.push(assign("thread_idx", name("local_id")));
    }
    if uses.block_idx {
        exact.push(assign("block_idx", name("workgroup_id")));
    }
    // Layout 1: a 1D grid, block after block over the workgroups; surplus
    // workgroups (or, merged, surplus block slots) return at once.
    let mut one_d = Vec::new();
    if merged {
        let slot = bin(member("local_id", "x"), "/", name("BLOCK_DIM_X"));
        one_d.push(WStmt::let_(
            "block_linear",
            bin(
                bin(
                    E::paren(linear.clone()),
                    "*",
                    name(BLOCKS_PER_WORKGROUP_OVERRIDE),
                ),
                "+",
                slot,
            ),
        ));
        one_d.push(WStmt::Comment(
            "Not workgroup-uniform when blocks are merged; the kernel has no barrier.".into(),
        ));
    } else {
        one_d.push(WStmt::let_("block_linear", linear.clone()));
        one_d.push(WStmt::Comment(
            "Workgroup-uniform condition (workgroup id, uniform buffer): barriers below stay in uniform control flow.".into(),
        ));
    }
    one_d.push(return_if(bin(name("block_linear"), ">=", grid("x"))));
    if uses.thread_idx {
        one_d.push(if merged {
            let x = bin(member("local_id", "x"), "%", name("BLOCK_DIM_X"));
            assign(
                "thread_idx",
                vec3([x, member("local_id", "y"), member("local_id", "z")]),
            )
        } else {
            assign("thread_idx", name("local_id"))
        });
    }
    if uses.block_idx {
        let zero = || E::literal("0u");
        one_d.push(assign(
            "block_idx",
            vec3([name("block_linear"), zero(), zero()]),
        ));
    }
    // Layout 2: any grid folded into a 2D/3D dispatch.
    let blocks = bin(bin(grid("x"), "*", grid("y")), "*", grid("z"));
    let mut folded = vec![
        WStmt::let_("block_linear", linear),
        return_if(bin(name("block_linear"), ">=", blocks)),
    ];
    if uses.thread_idx {
        folded.push(assign("thread_idx", name("local_id")));
    }
    if uses.block_idx {
        let x = bin(name("block_linear"), "%", grid("x"));
        let y = bin(
            E::paren(bin(name("block_linear"), "/", grid("x"))),
            "%",
            grid("y"),
        );
        let z = bin(
            name("block_linear"),
            "/",
            E::paren(bin(grid("x"), "*", grid("y"))),
        );
        folded.push(assign("block_idx", vec3([x, y, z])));
    }
    let layout_is = |k: &str| bin(name(GRID_LAYOUT_OVERRIDE), "==", E::literal(k));
    out.push(WStmt::If {
        cond: layout_is("0u"),
        then: exact,
        els: vec![WStmt::If {
            cond: layout_is("1u"),
            then: one_d,
            els: folded,
        }],
    });
    if uses.grid_dim {
        out.push(assign("grid_dim", name("cuda_grid")));
    }
    if uses.warp_size && fixed_warp.is_none() {
        out.push(assign(
            "warp_size",
            E::call("i32", vec![name("subgroup_size_in")]),
        ));
    }
    if uses.lane_id && lane_by_rank {
        let rank = E::call("subgroupExclusiveAdd", vec![E::literal("1u")]);
        out.push(assign("lane_id", rank));
    } else if uses.lane_id {
        out.push(assign("lane_id", name("subgroup_lane_in")));
    }
    out
}

/// `volatile` shared memory usually means warp-synchronous code, which WGSL
/// does not guarantee.
fn warn_volatile(m: &mut Module, f: &Function) {
    let mut funcs = vec![f];
    let mut seen = BTreeMap::new();
    let model = m.model;
    if let Some(body) = &f.body {
        body.walk_exprs(&mut |e| {
            if let cudalens_syntax::ir::ExprKind::Call(call) = &e.kind
                && let Some(g) = model.function(&call.callee)
                && g.body.is_some()
            {
                seen.insert(g.name.clone(), g);
            }
        });
    }
    funcs.extend(seen.into_values());
    for g in funcs {
        let Some(file_text) = m.texts.text_of(g.file.as_deref()) else {
            continue;
        };
        let text = g.span.text(file_text);
        if let Some(pos) = text.find("volatile") {
            let start = g.span.start + pos;
            m.warning(
                Span::new(start, start + "volatile".len()),
                "`volatile` warp-synchronous code is unsafe in WGSL: invocations of a subgroup are not guaranteed to run in lockstep; use __syncwarp() or __shfl_down_sync with the `subgroups` option",
            );
        }
    }
}

/// Pointer parameters the kernel reads through (indexing, dereference, or
/// passing the pointer on, which is taken as a read).
fn buffers_read(f: &cudalens_syntax::model::Function) -> std::collections::HashSet<String> {
    use cudalens_syntax::ir::{Expr, ExprKind, UnOp};
    fn root(e: &Expr) -> Option<&str> {
        match &e.kind {
            ExprKind::Ident(n) => Some(n),
            ExprKind::Index(b, _)
            | ExprKind::Member { base: b, .. }
            | ExprKind::Cast { expr: b, .. } => root(b),
            ExprKind::Unary(UnOp::Deref, b) => root(b),
            ExprKind::Binary(_, a, _) => root(a),
            _ => None,
        }
    }
    fn visit(e: &Expr, lvalue: bool, out: &mut std::collections::HashSet<String>) {
        match &e.kind {
            ExprKind::Assign(op, target, value) => {
                // A plain store does not read its target; `+=` does.
                visit(target, op.is_none(), out);
                visit(value, false, out);
            }
            ExprKind::Index(base, idx) => {
                if !lvalue && let Some(r) = root(base) {
                    out.insert(r.to_string());
                }
                visit(base, true, out);
                visit(idx, false, out);
            }
            ExprKind::Unary(UnOp::Deref, inner) => {
                if !lvalue && let Some(r) = root(inner) {
                    out.insert(r.to_string());
                }
                visit(inner, true, out);
            }
            ExprKind::Call(call) => {
                // An atomic's target is updated, not read back by other threads.
                let atomic = call.callee.starts_with("atomic");
                for (i, a) in call.args.iter().enumerate() {
                    if atomic && i == 0 {
                        if let ExprKind::Unary(UnOp::AddrOf, t) = &a.kind {
                            visit(t, true, out);
                        }
                        continue;
                    }
                    if let Some(r) = root(a) {
                        out.insert(r.to_string());
                    }
                    visit(a, false, out);
                }
            }
            _ => {
                for c in e.children() {
                    visit(c, false, out);
                }
            }
        }
    }
    let mut out = std::collections::HashSet::new();
    if let Some(body) = &f.body {
        body.walk(&mut |s| {
            for e in s.own_exprs() {
                visit(e, false, &mut out);
            }
        });
    }
    out
}
