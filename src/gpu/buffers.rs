//! The device's buffers and textures: storage, uniform, input and read-back buffers,
//! the 2-D textures kernels read, and the host's writes to both.

use super::Gpu;

impl Gpu {
    /// An unmapped buffer of `size` bytes for `usage`.
    fn buffer(&self, label: &str, size: u64, usage: wgpu::BufferUsages) -> wgpu::Buffer {
        self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size,
            usage,
            mapped_at_creation: false,
        })
    }

    /// A storage buffer of `size` bytes that can be copied out.
    pub fn storage(&self, label: &str, size: u64) -> wgpu::Buffer {
        self.buffer(
            label,
            size,
            wgpu::BufferUsages::STORAGE
                | wgpu::BufferUsages::COPY_SRC
                | wgpu::BufferUsages::COPY_DST,
        )
    }

    /// A uniform buffer holding `value`.
    pub fn uniform<T: bytemuck::Pod>(&self, label: &str, value: &T) -> wgpu::Buffer {
        let buffer = self.buffer(
            label,
            std::mem::size_of::<T>() as u64,
            wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
        );
        self.queue
            .write_buffer(&buffer, 0, bytemuck::bytes_of(value));
        buffer
    }

    /// A storage buffer the kernels only read, of `size` bytes, filled with
    /// [`Gpu::write`].
    pub fn input(&self, label: &str, size: u64) -> wgpu::Buffer {
        self.buffer(
            label,
            size.max(4),
            wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
        )
    }

    /// Copy `bytes` to the start of `buffer` (before the next dispatch).
    pub fn write(&self, buffer: &wgpu::Buffer, bytes: &[u8]) {
        self.queue.write_buffer(buffer, 0, bytes);
    }

    /// A 2-D texture a kernel reads with `textureLoad`, written with
    /// [`Gpu::write_rows`]: `rows` rows of `width` texels.
    pub fn texture(
        &self,
        label: &str,
        format: wgpu::TextureFormat,
        width: u32,
        rows: u32,
    ) -> (wgpu::Texture, wgpu::TextureView) {
        let texture = self.device.create_texture(&wgpu::TextureDescriptor {
            label: Some(label),
            size: wgpu::Extent3d {
                width,
                height: rows.max(1),
                depth_or_array_layers: 1,
            },
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format,
            usage: wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
            view_formats: &[],
        });
        let view = texture.create_view(&wgpu::TextureViewDescriptor::default());
        (texture, view)
    }

    /// Copy `bytes` to the start of `texture` (before the next dispatch), row after
    /// row of the texture's width: its whole rows, then what is left in part of the
    /// next.
    pub fn write_rows(&self, texture: &wgpu::Texture, bytes: &[u8]) {
        let width = texture.width() as usize;
        let texel = texture
            .format()
            .block_copy_size(None)
            .expect("a texture of whole texels") as usize;
        let row = width * texel;
        let whole = bytes.len() / row;
        let rest = (bytes.len() % row) / texel;
        let write = |y: usize, data: &[u8], width: usize, height: usize| {
            self.queue.write_texture(
                wgpu::TexelCopyTextureInfo {
                    texture,
                    mip_level: 0,
                    origin: wgpu::Origin3d {
                        x: 0,
                        y: y as u32,
                        z: 0,
                    },
                    aspect: wgpu::TextureAspect::All,
                },
                data,
                wgpu::TexelCopyBufferLayout {
                    offset: 0,
                    bytes_per_row: Some(row as u32),
                    rows_per_image: Some(height as u32),
                },
                wgpu::Extent3d {
                    width: width as u32,
                    height: height as u32,
                    depth_or_array_layers: 1,
                },
            );
        };
        if whole > 0 {
            write(0, &bytes[..whole * row], width, whole);
        }
        if rest > 0 {
            write(
                whole,
                &bytes[whole * row..whole * row + rest * texel],
                rest,
                1,
            );
        }
    }

    /// A buffer the host maps to read results from, of `size` bytes.
    pub fn readback(&self, label: &str, size: u64) -> wgpu::Buffer {
        self.buffer(
            label,
            size.max(4),
            wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        )
    }
}
